"""Remove printed form lines (rules, boxes, combs) and keep the writing on them."""

from __future__ import annotations

import cv2
import numpy as np

from digitd.pipeline.seg.components import ink_coordinates, label_points

__all__ = ["find_form_lines", "remove_form_lines"]


# Evenly spaced ticks found on one line that make it a comb.
_MIN_TICKS = 3
# A stroke crossing a line is at most this long along it (a pen stroke, slanted).
_MAX_CROSSING_MM = 1.5
# Share of its length over which a short printed line lies straight, alone, within a
# pixel of its centre line, however much writing touches it (box walls: about half).
_MIN_STRAIGHT = 0.3
# Share of its length over which a printed line's band holds ink.
_MIN_COVER = 0.85
# Anti-aliased pixels this far beyond a line's own thickness belong to it too.
_FRINGE_PX = 1.0
# A short line thicker than both this many times the page's rules and this many pixels
# more is a pen stroke: the walls of a box are printed with the pen of its rules.
_PEN_RATIO = 1.5
_PEN_MARGIN_PX = 1.5


def _kernel(width: int, height: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (max(1, width), max(1, height)))


def _thin_runs(
    ink: np.ndarray, *, length: int, max_thickness: float, horizontal: bool
) -> np.ndarray:
    """Straight runs of ink at least ``length`` long and at most ``max_thickness`` thick.

    A run needs ink on 85% of a ``length`` window, within a band one pixel
    either side, so a dashed, badly thresholded or slightly tilted line counts.
    """
    across = _kernel(1, 3) if horizontal else _kernel(3, 1)
    along = _kernel(length, 1) if horizontal else _kernel(1, length)
    band = cv2.dilate(ink, across)
    size = (length, 1) if horizontal else (1, length)
    # Inked pixels per window, counted in integers; the threshold is the least count
    # whose share, rounded to float32 as a float32 box blur gives it, reaches 85%.
    count = cv2.boxFilter(band, cv2.CV_16U, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    shares = (np.arange(length + 1) * (1.0 / length)).astype(np.float32)
    centres = (count >= int(np.argmax(shares >= np.float32(0.85)))).astype(np.uint8)
    gaps = _kernel(5, 1) if horizontal else _kernel(1, 5)
    region = cv2.dilate(centres, along) & cv2.morphologyEx(band, cv2.MORPH_CLOSE, gaps)
    n, _, stats, points = label_points(region)
    if n <= 1:
        return region & ink
    extent = stats[1:, cv2.CC_STAT_WIDTH if horizontal else cv2.CC_STAT_HEIGHT]
    area = stats[1:, cv2.CC_STAT_AREA]
    thickness = area / np.maximum(extent, 1) - 2.0  # the band added a pixel either side
    keep = np.zeros(n, np.uint8)
    keep[1:] = (extent >= 0.9 * length) & (thickness <= max_thickness)
    return _kept(region.shape, points, keep) & ink


def _kept(
    shape: tuple[int, int], points: tuple[np.ndarray, np.ndarray, np.ndarray], keep: np.ndarray
) -> np.ndarray:
    """``keep[labels]``, painted from the labelled pixels (`label_points`) only.

    Parameters
    ----------
    shape : (int, int)
    points : ((P,) int ndarray, (P,) int ndarray, (P,) int ndarray)
        Row, column and label of each labelled pixel.
    keep : (n,) uint8 ndarray
        0 or 1 per label, 0 for the background.

    Returns
    -------
    (H, W) uint8 ndarray
    """
    ys, xs, owner = points
    out = np.zeros(shape, np.uint8)
    on = keep[owner] > 0
    out[ys[on], xs[on]] = 1
    return out


def _shrink(ink: np.ndarray, factor: int) -> np.ndarray:
    """Ink at 1/factor resolution, a pixel inked when any pixel under it is.

    The rows and columns past the last whole cell count in the last cell, so
    a line drawn along the page's bottom or right edge is seen.
    """
    if factor == 1:
        return ink
    h, w = ink.shape
    rows, cols = max(1, h // factor), max(1, w // factor)
    core_h, core_w = rows * factor, cols * factor
    small = cv2.resize(ink[:core_h, :core_w], (cols, rows), interpolation=cv2.INTER_AREA) > 0
    small = small.astype(np.uint8)
    if h > core_h:
        tail = ink[core_h:, :core_w].any(axis=0)
        small[-1] |= tail.reshape(cols, factor).any(axis=1)
    if w > core_w:
        tail = ink[:core_h, core_w:].any(axis=1)
        small[:, -1] |= tail.reshape(rows, factor).any(axis=1)
    if h > core_h and w > core_w:
        small[-1, -1] |= bool(ink[core_h:, core_w:].any())
    return small


def _grow(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A low-resolution mask back at full resolution (nearest neighbour, padded)."""
    h, w = shape
    factor_h = h // mask.shape[0] if mask.shape[0] else 1
    factor_w = w // mask.shape[1] if mask.shape[1] else 1
    big = cv2.resize(
        mask,
        (mask.shape[1] * factor_w, mask.shape[0] * factor_h),
        interpolation=cv2.INTER_NEAREST,
    )
    # The rows and columns past the last whole cell take that cell's value.
    return cv2.copyMakeBorder(big, 0, h - big.shape[0], 0, w - big.shape[1], cv2.BORDER_REPLICATE)


def find_form_lines(
    ink: np.ndarray, *, px_per_mm: float, min_length_mm: float, max_thickness_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of printed horizontal and vertical lines.

    Horizontal lines are long thin runs. Vertical runs count as lines only
    when they are long (table rules) or join two horizontal lines (box walls),
    so that a handwritten 1 standing on an underline is not taken for one.
    The search runs at about 4 pixels per millimetre.

    Parameters
    ----------
    ink : (H, W) uint8 ndarray
        1 for ink.
    px_per_mm : float
    min_length_mm : float
        Shortest horizontal line.
    max_thickness_mm : float
        Thickest printed line.

    Returns
    -------
    horizontal, vertical : (H, W) uint8 ndarray
        1 where a line runs (a little wider than the line itself; intersect
        with the ink); comb ticks are vertical.
    """
    horizontal, walls, ticks, _ = _find_lines(
        ink, px_per_mm=px_per_mm, min_length_mm=min_length_mm, max_thickness_mm=max_thickness_mm
    )
    return _grow(horizontal, ink.shape), _grow(walls | ticks, ink.shape)


def _find_lines(
    ink: np.ndarray, *, px_per_mm: float, min_length_mm: float, max_thickness_mm: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Horizontal lines, walls and rules, and comb ticks; see `find_form_lines`.

    The masks are at the search resolution, 1/``factor`` of the page's (the
    last value returned).
    """
    factor = max(1, round(px_per_mm / 4.0))
    small = _shrink(ink, factor)
    ppm = px_per_mm / factor
    max_thick = max(2.0, max_thickness_mm * ppm + 1.0)
    length = max(8, round(min_length_mm * ppm))
    horizontal = _thin_runs(small, length=length, max_thickness=max_thick, horizontal=True)
    wall = max(6, round(0.4 * min_length_mm * ppm))
    vertical = _thin_runs(small, length=wall, max_thickness=max_thick, horizontal=False)
    # A light wall binarized with a pixel missing is one wall from rule to rule,
    # not two pieces of which neither reaches both rules.
    vertical = cv2.morphologyEx(vertical, cv2.MORPH_CLOSE, _kernel(1, 3))
    n, _, stats, points = label_points(vertical, areas=False)
    if n > 1:
        reach = max(2, round(0.8 * ppm))  # a broken wall may stop short of its lines
        near_h = cv2.dilate(horizontal, _kernel(5, 2 * reach + 1))
        ys = stats[1:, cv2.CC_STAT_TOP]
        xs = stats[1:, cv2.CC_STAT_LEFT] + stats[1:, cv2.CC_STAT_WIDTH] // 2
        hs = stats[1:, cv2.CC_STAT_HEIGHT]
        h_img = small.shape[0]
        top_ok = near_h[np.clip(ys - 1, 0, h_img - 1), xs] > 0
        bottom_ok = near_h[np.clip(ys + hs, 0, h_img - 1), xs] > 0
        long_rule = hs >= 2.5 * length
        # Both ends near lines is not enough: the foot of a stroke standing on an
        # underline is near the same line at both ends. A wall spans its box.
        keep = np.zeros(n, np.uint8)
        walls = top_ok & bottom_ok & (hs >= 0.75 * wall) & ~long_rule
        walls &= ~_inside_cells(xs, ys, hs, walls)
        keep[1:] = walls | long_rule
        vertical = _kept(vertical.shape, points, keep)
    ticks = _find_ticks(small, horizontal, length=length, max_thickness=max_thick)
    return horizontal, vertical, ticks, factor


def _inside_cells(xs: np.ndarray, ys: np.ndarray, hs: np.ndarray, walls: np.ndarray) -> np.ndarray:
    """Wall candidates that stand inside a cell of an evenly spaced row of box walls.

    The walls of a row of boxes (date boxes, an account number's cells) are
    printed at one pitch. A tall upright 1 written in a cell reaches (nearly)
    from rule to rule like a wall, but it stands between two walls one pitch
    apart, well away from both: it is writing.

    Parameters
    ----------
    xs, ys, hs : (n,) int ndarray
        Centre column, top row and height of each candidate.
    walls : (n,) bool ndarray
        The candidates that join two lines.

    Returns
    -------
    (n,) bool ndarray
        True for the candidates inside a cell.
    """
    out = np.zeros(len(xs), bool)
    idx = np.flatnonzero(walls)
    if len(idx) < 4:
        return out
    x = xs[idx].astype(np.float64)
    top, bottom = ys[idx], ys[idx] + hs[idx]
    # Walls of one row share most of their height.
    overlap = np.minimum(bottom[:, None], bottom[None, :]) - np.maximum(top[:, None], top[None, :])
    row = overlap >= 0.5 * np.minimum(hs[idx][:, None], hs[idx][None, :])
    for i in range(len(idx)):
        mates = np.sort(x[row[i]])  # includes the candidate itself
        if len(mates) < 4:
            continue
        steps = np.diff(mates)
        pitch = float(np.median(steps))
        if pitch <= 0:
            continue
        left, right = mates[mates < x[i]], mates[mates > x[i]]
        if len(left) == 0 or len(right) == 0:
            continue
        near = min(x[i] - left[-1], right[0] - x[i])
        span = right[0] - left[-1]
        # A regular cell (its walls one pitch apart) with this stroke well inside it.
        if abs(span - pitch) <= 0.15 * pitch and near >= 0.25 * pitch:
            out[idx[i]] = True
    return out


def _find_ticks(
    small: np.ndarray, horizontal: np.ndarray, *, length: int, max_thickness: float
) -> np.ndarray:
    """Comb ticks: whole short thin strokes standing on, or hanging from, a line.

    Ticks come in rows: at least ``_MIN_TICKS`` on one line, on one side of
    it. Those a digit touches are placed by the others' pitch.
    """
    reach = max(2, round(max_thickness) + 1)
    near_h = cv2.dilate(horizontal, _kernel(3, 2 * reach + 1))
    rest = small & (1 - cv2.dilate(horizontal, _kernel(1, 3)))
    n, _, stats, points = label_points(rest)
    if n <= 1:
        return np.zeros_like(small)
    x, y, w, h = (stats[1:, i] for i in range(4))
    rows, cols = small.shape
    xs = np.clip(x + w // 2, 0, cols - 1)
    touches = (near_h[np.clip(y + h, 0, rows - 1), xs] > 0) | (
        near_h[np.clip(y - 1, 0, rows - 1), xs] > 0
    )
    tick = touches & (w <= max_thickness + 1) & (h >= 2) & (h <= length // 4)
    for i in np.flatnonzero(tick):
        # A stroke that carries on across the line is writing, not a tick.
        if _crosses(small, horizontal, int(x[i]), int(w[i]), int(y[i]), int(h[i])):
            tick[i] = False
    if tick.sum() < _MIN_TICKS:
        return np.zeros_like(small)
    standing = near_h[np.clip(y + h, 0, rows - 1), xs] > 0
    foot = np.clip(np.where(standing, y + h, y - 1), 0, rows - 1)
    # Ticks of one comb stand on (or hang from) one line: the same side, the same row.
    mine = np.flatnonzero(tick)
    mine = mine[np.lexsort((foot[mine], standing[mine]))]
    breaks = np.flatnonzero(
        (np.diff(foot[mine]) > 1) | (np.diff(standing[mine].astype(np.int8)) != 0)
    )
    # A lone "tick" hanging from an underline is the tail of a digit.
    combs = [group for group in np.split(mine, breaks + 1) if len(group) >= _MIN_TICKS]
    keep = np.zeros(n, np.uint8)
    for group in combs:
        keep[group + 1] = 1
    found = _kept(rest.shape, points, keep)
    for group in combs:
        line = near_h[int(np.median(foot[group]))] > 0
        # One comb's ticks stand on one unbroken line: ticks on the same row of
        # another line (the next form field, a box beside it) are not its pitch.
        group = group[np.argsort(xs[group])]
        # Columns without line left of each tick: equal for the ticks of one run.
        off = np.flatnonzero(~line)
        gaps = np.searchsorted(off, xs[group])
        for at in np.split(np.arange(len(group)), np.flatnonzero(np.diff(gaps)) + 1):
            if len(at) < _MIN_TICKS:
                continue
            run, before = group[at], int(gaps[at[0]])
            # The run's own stretch of line, between the gaps either side of it.
            own = np.zeros_like(line)
            start = int(off[before - 1]) + 1 if before > 0 else 0
            stop = int(off[before]) if before < len(off) else len(line)
            own[start:stop] = True
            for top, bottom, x0, x1 in _hidden_ticks(
                small,
                own,
                xs[run],
                foot[run],
                w[run],
                h[run],
                standing=bool(standing[run[0]]),
            ):
                found[top:bottom, x0:x1] |= small[top:bottom, x0:x1]
    return found


def _hidden_ticks(
    small: np.ndarray,
    line: np.ndarray,
    xs: np.ndarray,
    feet: np.ndarray,
    widths: np.ndarray,
    heights: np.ndarray,
    *,
    standing: bool,
) -> list[tuple[int, int, int, int]]:
    """The ticks of a comb that writing touches, where the comb's pitch puts them.

    A tick a digit touches is part of the digit's component and is not found
    on its own; the evenly spaced ticks found on the same line give the
    places and the size of the others.

    Parameters
    ----------
    small : (H, W) uint8 ndarray
        Ink at the search resolution.
    line : (W,) bool ndarray
        The columns where the comb's line runs.
    xs, feet, widths, heights : (T,) int ndarray
        Centre column, row where it meets the line, width and height of each
        tick found, T >= 3.
    standing : bool
        Ticks stand on the line (else hang from it).

    Returns
    -------
    list of (top, bottom, x0, x1) int
        The window of each hidden tick (rows ``top:bottom``, columns
        ``x0:x1``); the tick is the ink there.
    """
    out: list[tuple[int, int, int, int]] = []
    order = np.sort(xs.astype(np.float64))
    steps = np.diff(order)
    if len(steps) == 0 or steps.min() <= 0:
        return out
    # The pitch is the shortest step, refined over all: where digits touch every other
    # tick, most steps found are two or three pitches long, and their median is not one.
    pitch = float(steps.sum() / np.maximum(np.round(steps / steps.min()), 1).sum())
    if pitch < 3 * float(np.median(widths)) + 3:
        return out
    cells = steps / pitch
    if np.any(np.abs(cells - np.round(cells)) > 0.15) or np.any(np.round(cells) < 1):
        return out  # not evenly spaced: not a comb
    # From one pitch before the first tick found to one after the last, where the line runs.
    places = order[0] + pitch * np.arange(-1, round((order[-1] - order[0]) / pitch) + 2)
    places = places[(places >= 0) & (places <= len(line) - 1)]
    places = places[line[np.round(places).astype(int)]]
    hidden = places[np.min(np.abs(places[:, None] - order[None, :]), axis=1) > 0.25 * pitch]
    half = max(1, round(float(np.median(widths)) / 2.0))
    height = round(float(np.median(heights)))
    foot = round(float(np.median(feet)))
    top, bottom = (foot - height, foot) if standing else (foot + 1, foot + 1 + height)
    top, bottom = max(0, top), min(small.shape[0], bottom)
    for x in np.round(hidden).astype(int):
        out.append((top, bottom, max(0, int(x) - half), min(small.shape[1], int(x) + half + 1)))
    return out


def _crosses(small: np.ndarray, horizontal: np.ndarray, x: int, w: int, y: int, h: int) -> bool:
    """Whether ink continues on the far side of the line a short stroke touches."""
    rows = small.shape[0]
    x0, x1 = max(0, x - 1), x + w + 1
    for start, step in ((y + h, 1), (y - 1, -1)):
        r = start
        # Find the line within a few rows, walk through it, then look just beyond.
        while 0 <= r < rows and abs(r - start) < 4 and not horizontal[r, x0:x1].any():
            r += step
        if not (0 <= r < rows) or not horizontal[r, x0:x1].any():
            continue
        while 0 <= r < rows and horizontal[r, x0:x1].any():
            r += step
        beyond = small[max(0, min(r, r + 2 * step)) : max(r, r + 2 * step) + 1, x0:x1]
        if beyond.any():
            return True
    return False


def _group_quantile(
    values: np.ndarray, groups: np.ndarray, n: int, q: float, valid: np.ndarray
) -> np.ndarray:
    """The ``q`` quantile (lower) of the valid ``values`` of each of ``n`` groups; 0 if none."""
    order = np.lexsort((np.where(valid, values, np.iinfo(np.int64).max), groups))
    sorted_values, sorted_groups = values[order], groups[order]
    starts = np.searchsorted(sorted_groups, np.arange(n))
    size = np.bincount(groups, weights=valid.astype(np.float64), minlength=n).astype(np.int64)
    pick = np.clip(starts + ((size - 1) * q).astype(np.int64), 0, max(0, len(order) - 1))
    return np.where(size > 0, sorted_values[pick], 0).astype(np.float64)


def _fit_lines(
    lab: np.ndarray, along: np.ndarray, across: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Straight centre line and thickness of each labelled line, from its ink.

    Per position along a line, the ink across it is counted; the median of
    the counts not far above their lower quartile is the line's thickness,
    and the positions no thicker than that (where no writing touches the
    line) give its centre line by least squares, refitted once without the
    outliers.

    Parameters
    ----------
    lab, along, across : (P,) int ndarray
        Label, position along the line and position across it of each ink pixel.
    n : int
        Number of labels.

    Returns
    -------
    offset, slope, thickness, low, extent, straight, first : (n,) float64 ndarray
        Centre ``across = offset + slope * along``; thickness, its lower
        quartile (the line alone, where writing runs along it) and length in
        pixels; the share of the length where the line, alone, lies on that
        centre line within a pixel; the first position along it.
    """
    span = int(along.max()) + 1
    key = lab.astype(np.int64) * span + along
    all_counts = np.bincount(key, minlength=n * span)
    keys = np.flatnonzero(all_counts)
    counts = all_counts[keys]
    centre = np.bincount(key, weights=across, minlength=n * span)[keys] / counts
    col_lab, col_at = keys // span, (keys % span).astype(np.float64)
    first = np.full(n, np.inf)
    last = np.full(n, -np.inf)
    np.minimum.at(first, col_lab, col_at)
    np.maximum.at(last, col_lab, col_at)
    extent = np.where(np.isfinite(first), last - first + 1.0, 0.0)
    # The lower quartile is the line alone even where writing runs along much of it
    # (a 0 beside a box wall); the median of the counts up to twice that is its full
    # width, anti-aliased edges and all.
    low = _group_quantile(counts, col_lab, n, 0.25, np.ones(len(counts), bool))
    thickness = _group_quantile(counts, col_lab, n, 0.5, counts <= 2 * low[col_lab])
    use = counts <= thickness[col_lab] + 1
    offset = np.zeros(n)
    slope = np.zeros(n)
    for _ in range(2):
        w = use.astype(np.float64)
        s0 = np.bincount(col_lab, weights=w, minlength=n)
        sx = np.bincount(col_lab, weights=w * col_at, minlength=n)
        sy = np.bincount(col_lab, weights=w * centre, minlength=n)
        sxx = np.bincount(col_lab, weights=w * col_at * col_at, minlength=n)
        sxy = np.bincount(col_lab, weights=w * col_at * centre, minlength=n)
        det = s0 * sxx - sx * sx
        ok = (s0 >= 2) & (det > 1e-9 * np.maximum(s0 * sxx, 1.0))
        slope = np.where(ok, (s0 * sxy - sx * sy) / np.where(ok, det, 1.0), 0.0)
        offset = np.where(s0 > 0, (sy - slope * sx) / np.maximum(s0, 1e-9), 0.0)
        residual = np.abs(centre - (offset[col_lab] + slope[col_lab] * col_at))
        use &= residual <= 1.0
    straight = np.bincount(col_lab, weights=use.astype(np.float64), minlength=n)
    first = np.where(np.isfinite(first), first, 0.0)
    return offset, slope, thickness, low, extent, straight / np.maximum(extent, 1.0), first


def _line_pixels(
    ink: np.ndarray,
    ink_points: tuple[np.ndarray, np.ndarray],
    found: np.ndarray,
    factor: int,
    *,
    horizontal: bool,
    long_run: float,
    min_run: float = 0.0,
    reference: float | None = None,
) -> tuple[np.ndarray, float | None]:
    """The ink of each line found: a straight band of the line's own thickness.

    A printed line is straight and equally thick all along; near it, ink
    outside that band (the bowl of a digit dipping under an underline, a
    stroke beside a box wall) is writing and is left alone. A "line" whose
    band is not inked over most of its length, or a short one (under
    ``long_run``) that is not straight over a good part of it, is the row of
    a written word's letters. The rules of one form are printed with one
    pen: a short line much thicker than the long rules is a pen stroke (a 1
    or the stem of a 7 standing in a box, the bars of touching 7s). Neither
    is erased.

    Parameters
    ----------
    ink : (H, W) uint8 ndarray
        1 for ink.
    ink_points : ((P,) int ndarray, (P,) int ndarray)
        Rows and columns of the ink, in row-major order (`ink_coordinates`).
    found : (h, w) uint8 ndarray
        1 on the lines found at the search resolution, 1/``factor`` of the page's.
    factor : int
    horizontal : bool
    long_run : float
        Lines at least this long, in pixels, are print whatever their thickness.
    min_run : float
        A printed line is at least this long, in pixels. A shorter piece is
        a rule only as a stretch of a longer one that it continues (a rule
        broken by the scan) and is erased along that line's band; alone it
        is writing (the bars of two 7s, or the waist of an 8 and the bar of
        a 7, in a row across a box wall).
    reference : float or None
        Thickness of the page's printed rules, in pixels; None measures it
        from this call's long lines (or all of them, when none is long).

    Returns
    -------
    pixels : (H, W) uint8 ndarray
        1 on the lines' pixels.
    reference : float or None
        The rules' thickness used; None when there were no lines.
    """
    out = np.zeros_like(ink)
    # One search pixel around the lines found: their fringes, and on to where walls meet lines.
    near = cv2.dilate(found, _kernel(3, 3))
    n, labels = cv2.connectedComponents(near, connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return out, reference
    # The ink under `near` grown to the page (`_grow`), in row-major order: picked from
    # the page's ink points, not found anew over the whole page.
    ys, xs = ink_points
    step_y, step_x = ink.shape[0] // near.shape[0], ink.shape[1] // near.shape[1]
    # The last few rows and columns of a page not a multiple of the search step long
    # belong to the last search cell: a box drawn along the page's edge reaches them.
    cell_y = np.minimum(ys // step_y, near.shape[0] - 1)
    cell_x = np.minimum(xs // step_x, near.shape[1] - 1)
    pick = near[cell_y, cell_x] > 0
    if not pick.any():
        return out, reference
    ys, xs = ys[pick].astype(np.int64), xs[pick].astype(np.int64)
    lab = labels[
        np.minimum(ys // factor, near.shape[0] - 1), np.minimum(xs // factor, near.shape[1] - 1)
    ]
    along, across = (xs, ys) if horizontal else (ys, xs)
    offset, slope, thickness, low, extent, straight, first = _fit_lines(
        lab, along, across.astype(np.float64), n
    )
    is_long = extent >= long_run
    if reference is None:
        weight = np.bincount(lab, minlength=n).astype(np.float64)
        pool = np.flatnonzero(is_long & (weight > 0))
        if len(pool) == 0:
            pool = np.flatnonzero(weight > 0)
        order = pool[np.argsort(thickness[pool], kind="stable")]
        cumulative = np.cumsum(weight[order])
        reference = float(thickness[order[np.searchsorted(cumulative, cumulative[-1] / 2.0)]])
    limit = max(_PEN_RATIO * reference, reference + _PEN_MARGIN_PX)
    inside = _in_band(along, across, offset[lab], slope[lab], thickness[lab])
    # A printed line inks its band all along; the bottoms of a written word, which a
    # coarse search may take for a line, leave gaps between the letters.
    span = int(along.max()) + 1
    columns = np.flatnonzero(np.bincount(lab[inside] * span + along[inside], minlength=n * span))
    cover = np.bincount(columns // span, minlength=n) / np.maximum(extent, 1.0)
    pen = low > limit
    if horizontal:  # walls are checked against the lines they join (`_find_lines`)
        pen |= straight < _MIN_STRAIGHT
    printed = (cover >= _MIN_COVER) & (is_long | ~pen)
    short = extent < min_run
    short[0] = False
    if short.any():
        # A stretch of a longer rule is erased along that rule's band; a short piece
        # alone is not a rule.
        parent = _continued_lines(offset, slope, thickness, extent, first, printed & ~short, short)
        printed[short] = False
        printed[0] = False
        moved = np.flatnonzero(short[lab])
        lab[moved] = parent[lab[moved]]
        on = lab[moved]
        inside[moved] = _in_band(along[moved], across[moved], offset[on], slope[on], thickness[on])
    inside &= printed[lab]
    out[ys[inside], xs[inside]] = 1
    return out, reference


def _in_band(
    along: np.ndarray,
    across: np.ndarray,
    offset: np.ndarray,
    slope: np.ndarray,
    thickness: np.ndarray,
) -> np.ndarray:
    """(P,) bool: pixels within their line's band, its own thickness and a fringe.

    All arguments are (P,) arrays, one entry per pixel: its position along
    and across the line, and that line's fit (`_fit_lines`).
    """
    distance = np.abs(across - (offset + slope * along))
    return distance <= (thickness - 1.0) / 2.0 + _FRINGE_PX


def _continued_lines(
    offset: np.ndarray,
    slope: np.ndarray,
    thickness: np.ndarray,
    extent: np.ndarray,
    first: np.ndarray,
    rules: np.ndarray,
    short: np.ndarray,
) -> np.ndarray:
    """The rule each short piece continues, or 0.

    A piece continues a rule when its centre lies on the rule's band
    (within a pixel and a half of it) and it is no further from the rule's
    end than the rule is long: a rule broken by the scan into stretches.

    Parameters
    ----------
    offset, slope, thickness, extent, first : (n,) float64 ndarray
        The lines' fits (`_fit_lines`); label 0 is the background.
    rules : (n,) bool ndarray
        The lines that are rules by themselves.
    short : (n,) bool ndarray
        The pieces to place.

    Returns
    -------
    parent : (n,) int64 ndarray
        The rule's label for each short piece that continues one, else 0.
    """
    parent = np.zeros(len(offset), np.int64)
    pieces, lines = np.flatnonzero(short), np.flatnonzero(rules)
    pieces = pieces[pieces > 0]
    lines = lines[lines > 0]
    if len(pieces) == 0 or len(lines) == 0:
        return parent
    middle = first[pieces] + (extent[pieces] - 1.0) / 2.0
    centre = offset[pieces] + slope[pieces] * middle
    on_line = offset[lines][None, :] + slope[lines][None, :] * middle[:, None]
    off = np.abs(centre[:, None] - on_line)
    start, stop = first[lines][None, :], (first[lines] + extent[lines])[None, :]
    gap = np.maximum(0.0, np.maximum(start - middle[:, None], middle[:, None] - stop))
    gap -= extent[pieces][:, None] / 2.0
    fits = (off <= (thickness[lines][None, :] - 1.0) / 2.0 + 1.5) & (gap <= extent[lines][None, :])
    best = np.argmin(np.where(fits, off, np.inf), axis=1)
    ok = fits[np.arange(len(pieces)), best]
    parent[pieces[ok]] = lines[best[ok]]
    return parent


def remove_form_lines(
    ink: np.ndarray, *, px_per_mm: float, min_length_mm: float, max_thickness_mm: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Erase printed lines, then restore the strokes that cross them.

    Each line found is erased as a straight band of its own measured
    thickness, so writing that touches it from either side keeps its ink;
    short "lines" that are pen strokes or rows of written letters are kept
    whole (see `_line_pixels`). Comb ticks are erased where they lie, also
    where a digit leans on one. A pixel of a horizontal line is given back
    when ink continues above and below it over no more than a stroke's
    width (a stroke crossing the line); likewise left and right for a
    vertical line. A digit sitting on an underline loses only the line.

    Parameters
    ----------
    ink : (H, W) uint8 ndarray
        1 for ink.
    px_per_mm : float
    min_length_mm, max_thickness_mm : float
        See `find_form_lines`.

    Returns
    -------
    clean : (H, W) uint8 ndarray
        1 for ink that is not a printed line.
    horizontal, vertical : (H, W) uint8 ndarray
        1 on the removed pixels of horizontal and of vertical lines (before
        restoring crossings).
    """
    found_h, found_v, found_ticks, factor = _find_lines(
        ink, px_per_mm=px_per_mm, min_length_mm=min_length_mm, max_thickness_mm=max_thickness_mm
    )
    long_run = 2.5 * min_length_mm * px_per_mm
    points = ink_coordinates(ink)
    horizontal, rules = _line_pixels(
        ink,
        points,
        found_h,
        factor,
        horizontal=True,
        long_run=long_run,
        min_run=0.9 * min_length_mm * px_per_mm,
    )
    vertical, _ = _line_pixels(
        ink, points, found_v, factor, horizontal=False, long_run=long_run, reference=rules
    )
    # Ticks are placed by the comb's pitch, not fitted: a digit may lean on one all along.
    reach = max(1, round(0.25 * px_per_mm))
    sx, sy, sw, sh = cv2.boundingRect(found_ticks)
    if sw > 0:
        # `_grow` and the dilation, over the ticks' box and the dilation's reach only.
        step_y, step_x = ink.shape[0] // found_ticks.shape[0], ink.shape[1] // found_ticks.shape[1]
        y0, y1 = max(0, sy * step_y - reach), min(ink.shape[0], (sy + sh) * step_y + reach)
        x0, x1 = max(0, sx * step_x - 1), min(ink.shape[1], (sx + sw) * step_x + 1)
        box = found_ticks[sy : sy + sh, sx : sx + sw]
        ticks = np.zeros((y1 - y0, x1 - x0), np.uint8)
        ty, tx = sy * step_y - y0, sx * step_x - x0
        ticks[ty : ty + sh * step_y, tx : tx + sw * step_x] = cv2.resize(
            box, (sw * step_x, sh * step_y), interpolation=cv2.INTER_NEAREST
        )
        window = vertical[y0:y1, x0:x1]
        window |= cv2.dilate(ticks, _kernel(3, 2 * reach + 1)) & ink[y0:y1, x0:x1]
    clean = ink ^ (horizontal | vertical)  # both lie on the ink
    span = int(np.ceil(max(2.0, max_thickness_mm * px_per_mm))) + 2 * reach + 3
    crossing = max(3, round(_MAX_CROSSING_MM * px_per_mm))
    across_h = _crossings(clean, horizontal, span=span, longest=crossing, horizontal=True)
    across_v = _crossings(clean, vertical, span=span, longest=crossing, horizontal=False)
    return clean | across_h | across_v, horizontal, vertical


def _crossings(
    clean: np.ndarray, line: np.ndarray, *, span: int, longest: int, horizontal: bool
) -> np.ndarray:
    """Line pixels with writing on both sides, where a stroke crosses the line.

    A stretch with ink on both sides longer than ``longest`` along the line is
    two marks touching the line from either side (digits in neighbouring
    boxes), not one stroke crossing it, and stays erased.
    """
    across = _kernel(1, span) if horizontal else _kernel(span, 1)
    both = cv2.morphologyEx(clean, cv2.MORPH_CLOSE, across) & line
    x, y, w, h = cv2.boundingRect(both)
    if w == 0:
        return both
    pad = longest + 1
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(both.shape[1], x + w + pad), min(both.shape[0], y + h + pad)
    along = _kernel(longest + 1, 1) if horizontal else _kernel(1, longest + 1)
    region = both[y0:y1, x0:x1]
    region -= cv2.morphologyEx(region, cv2.MORPH_OPEN, along)  # in place: ``both`` is ours
    return both
