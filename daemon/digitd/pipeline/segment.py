"""Find fields of digit crops on a page.

The steps, each a pure function in ``digitd.pipeline.seg``:

1. ``select_ink_channel``: the grey (or colour projection) where writing ink
   is darkest; coloured stamps and security tints are pushed to paper.
2. ``estimate_scale``: pixels per mm from the dpi, or from the page's strokes.
3. ``binarize_page``: paper brightness divided out, then a threshold.
4. ``estimate_skew`` / ``rotate_ink``: up to ``max_skew_degrees`` either way.
5. ``remove_form_lines``: rules, boxes and combs erased, crossing strokes kept.
6. ``find_marks``: specks, holes, shadows and big clutter dropped; broken
   strokes joined (rows of small print, such as a date legend, kept apart).
7. ``group_fields``: rows, then fields by gaps; text-like runs, lone
   signatures and marks beside dropped words left out; digits written a
   little small taken in; a field drifting across two rows joined.
8. ``split_marks``: marks too wide for one digit cut where the recognizer
   agrees; ``merge_fields``: neighbouring fragments joined where it reads
   them better as one digit. Both read the candidates of the whole page in
   one recognizer call (per round of cutting).

Boxes are mapped back to the original page's pixels at the end.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitd.pipeline.seg.binarize import binarize_page, select_ink_channel
from digitd.pipeline.seg.deskew import (
    Rotation,
    estimate_skew,
    identity_rotation,
    map_boxes_back,
    rotate_ink,
)
from digitd.pipeline.seg.group import (
    Marks,
    erase_wall_rows,
    find_box_cells,
    find_marks,
    find_wall_rows,
    find_wall_stubs,
    group_fields,
    join_fragments,
)
from digitd.pipeline.seg.lines import remove_form_lines
from digitd.pipeline.seg.merge import Piece, merge_fields
from digitd.pipeline.seg.scale import MM_PER_INCH, estimate_scale
from digitd.pipeline.seg.split import split_marks
from digitd.pipeline.seg.types import (
    CropScorer,
    DigitCrop,
    Field,
    SegmentationParams,
    SegmentedPage,
    Template,
    Zone,
)
from digitd.results import Box

__all__ = [
    "CropScorer",
    "DigitCrop",
    "Field",
    "SegmentationParams",
    "SegmentedPage",
    "Template",
    "Zone",
    "segment_page",
    "zone_rect",
]

# Skews smaller than this are left alone: rotating costs more than it helps.
_MIN_SKEW_DEGREES = 0.25


def zone_rect(zone: Zone, *, shape: tuple[int, int], px_per_mm: float) -> Box:
    """A template zone in pixels of the original page.

    Parameters
    ----------
    zone : Zone
    shape : (H, W) tuple of int
        Size of the page.
    px_per_mm : float

    Returns
    -------
    box : (x, y, w, h) tuple of int
    """
    if zone.unit == "fraction":
        sx, sy = float(shape[1]), float(shape[0])
    else:
        sx = sy = px_per_mm
    return (
        round(zone.x * sx),
        round(zone.y * sy),
        max(1, round(zone.w * sx)),
        max(1, round(zone.h * sy)),
    )


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 ndarray page, got {getattr(image, 'dtype', image)!r}")
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 8:
        raise ValueError(
            f"expected a (H, W) or (H, W, 3) page at least 8x8 pixels, got shape {image.shape}"
        )


def _resample(image: np.ndarray, *, px_per_mm: float, work_dpi: float) -> tuple[np.ndarray, float]:
    """Shrink scans finer than ``work_dpi``; return the image and the factor applied."""
    work_ppm = work_dpi / MM_PER_INCH
    if work_dpi <= 0 or px_per_mm <= 1.1 * work_ppm:
        return image, 1.0
    factor = work_ppm / px_per_mm
    h, w = image.shape[:2]
    size = (max(8, round(w * factor)), max(8, round(h * factor)))
    # Area averaging is exact but slow unless the factor is a whole number; bilinear
    # sampling is enough for factors above one half (300 -> 200 dpi).
    whole = abs(1.0 / factor - round(1.0 / factor)) < 0.01
    method = cv2.INTER_AREA if whole or factor < 0.5 else cv2.INTER_LINEAR
    small = cv2.resize(image, size, interpolation=method)
    return small, size[0] / w


def _with_touched_line(
    marks: Marks, g: int, lines: np.ndarray, *, reach: int
) -> tuple[int, int, np.ndarray]:
    """A mark's mask with the line pixels it rests on given back.

    Where the bottom of a 6 or a 0 lies along an underline, erasing the line
    opened the loop; pixels of horizontal lines (``lines``) within ``reach``
    rows of the mark's own ink close it again.

    Returns
    -------
    x, y : int
        Top-left of the mask in the work image.
    mask : (h, w) uint8 ndarray
        1 on the mark's ink.
    """
    x, y, w, h = (int(v) for v in marks.boxes[g])
    own = marks.mask_of(g)
    top, bottom = max(0, y - reach), min(lines.shape[0], y + h + reach)
    window = np.zeros((bottom - top, w), np.uint8)
    window[y - top : y - top + h] = own
    near = cv2.dilate(window, np.ones((2 * reach + 1, 1), np.uint8))
    window |= near & lines[top:bottom, x : x + w]
    rows = np.flatnonzero(window.any(axis=1))
    if len(rows) == 0:
        return x, y, own
    return x, top + int(rows[0]), window[rows[0] : rows[-1] + 1]


def _digit_size(sizes: np.ndarray) -> tuple[float, float]:
    """Typical digit height and width of a field, from its marks' (n, 4) boxes."""
    height = float(np.median(sizes[:, 3]))
    # Typical width of one digit: ones (narrow strokes) left out of the median.
    wide = sizes[sizes[:, 2] > 0.35 * sizes[:, 3], 2]
    width = float(np.median(wide)) if len(wide) >= 3 else 0.65 * height
    width = float(np.clip(width, 0.55 * height, 0.9 * height))
    return height, width


def _digit_crops(
    marks: Marks,
    named: list[tuple[str, list[int]]],
    *,
    lines: np.ndarray,
    line_reach: int,
    max_gap: float,
    split_ratio: float,
    overlap_ratio: float,
    score_crops: CropScorer | None,
    rotation: Rotation,
    scale: float,
    shape: tuple[int, int],
) -> list[tuple[DigitCrop, ...]]:
    """Each field's digit crops: its marks cut and joined, all fields of the page at once."""
    sizes = [_digit_size(marks.boxes[members]) for _, members in named]
    placed = [
        [_with_touched_line(marks, g, lines, reach=line_reach) for g in members]
        for _, members in named
    ]
    owners = [k for k, field_marks in enumerate(placed) for _ in field_marks]
    cut = split_marks(
        [mask for field_marks in placed for _, _, mask in field_marks],
        digit_heights=[sizes[k][0] for k in owners],
        digit_widths=[sizes[k][1] for k in owners],
        split_ratio=split_ratio,
        overlap_ratio=overlap_ratio,
        fields=owners,
        score_crops=score_crops,
    )
    per_field: list[list[Piece]] = [[] for _ in named]
    flat = [(x, y) for field_marks in placed for x, y, _ in field_marks]
    for k, (x, y), parts in zip(owners, flat, cut, strict=True):
        for part in parts:
            px, py, pw, ph = part.box
            per_field[k].append(Piece(box=(x + px, y + py, pw, ph), mask=part.mask))
    merged = merge_fields(
        per_field,
        digit_heights=[h for h, _ in sizes],
        max_gap=max_gap,
        score_crops=score_crops,
    )
    flat_pieces = [p for pieces in merged for p in pieces]
    boxes = map_boxes_back(
        np.array([p.box for p in flat_pieces]), rotation, scale=scale, shape=shape
    )
    crops = iter(
        DigitCrop(
            box=(int(x), int(y), int(w), int(h)),
            image=np.where(p.mask > 0, 0, 255).astype(np.uint8),
        )
        for p, (x, y, w, h) in zip(flat_pieces, boxes, strict=True)
    )
    return [tuple(next(crops) for _ in pieces) for pieces in merged]


def _marks_of(clean: np.ndarray, *, px_per_mm: float, params: SegmentationParams) -> Marks:
    """The marks of the ink left after line removal, broken strokes joined."""
    marks = find_marks(
        clean,
        px_per_mm=px_per_mm,
        speck_mm=params.speck_size_mm,
        min_height_mm=params.min_digit_height_mm,
        max_height_mm=params.max_digit_height_mm,
        max_aspect=params.max_mark_aspect,
        merge_gap_mm=params.merge_gap_mm,
    )
    return join_fragments(marks, px_per_mm=px_per_mm, min_height_mm=params.min_digit_height_mm)


def _union(boxes: np.ndarray) -> Box:
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    return (int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def _left_out(marks: Marks, named: list[tuple[str, list[int]]], walls: np.ndarray) -> np.ndarray:
    """(K, 4) work-image boxes of the writing no field took (see ``SegmentedPage.left_out``)."""
    out = ~walls & ~marks.is_print_row()
    for _, members in named:
        out[members] = False
    boxes = marks.boxes[out]
    if marks.clutter is not None:
        boxes = np.concatenate([boxes, marks.clutter.reshape(-1, 4)])
    return boxes.astype(np.int64).reshape(-1, 4)


def _zone_members(marks: Marks, zone: Box, rotation: Rotation, scale: float) -> np.ndarray:
    """Indices of marks whose centre falls in ``zone`` (original pixels)."""
    x, y, w, h = zone
    centre = np.array([x + w / 2.0, y + h / 2.0, 1.0]) * np.array([scale, scale, 1.0])
    cx, cy = rotation.forward @ centre
    half_w, half_h = w * scale / 2.0, h * scale / 2.0
    mx = marks.boxes[:, 0] + marks.boxes[:, 2] / 2.0
    my = marks.boxes[:, 1] + marks.boxes[:, 3] / 2.0
    inside = (np.abs(mx - cx) <= half_w) & (np.abs(my - cy) <= half_h)
    return np.flatnonzero(inside)


def segment_page(
    image: np.ndarray,
    *,
    dpi: float | None,
    params: SegmentationParams,
    template: Template | None = None,
    score_crops: CropScorer | None = None,
) -> SegmentedPage:
    """Segment a page into fields of digit crops, in reading order.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) uint8 ndarray
        The page, ink dark on light.
    dpi : float or None
        Scan resolution; None when unknown, and the scale is then measured
        from the page's strokes.
    params : SegmentationParams
    template : Template or None
        When given, only its zones are read, each zone one field named after it.
    score_crops : callable or None
        Recognizer confidence, (N,) floats, for a list of N crops; used to
        choose where touching digits are cut.

    Returns
    -------
    SegmentedPage
        Boxes in the original page's pixel coordinates.

    Raises
    ------
    ValueError
        ``image`` is not a uint8 grey or RGB array of at least 8x8 pixels.
    """
    _check_image(image)
    shape = (int(image.shape[0]), int(image.shape[1]))
    page_ppm = estimate_scale(image, dpi=dpi)
    small, scale = _resample(image, px_per_mm=page_ppm, work_dpi=params.work_dpi)
    work = select_ink_channel(small, separate_colour=params.separate_colour)
    ppm = page_ppm * scale
    ink = binarize_page(work, px_per_mm=ppm)
    skew = estimate_skew(ink, px_per_mm=ppm, max_degrees=params.max_skew_degrees)
    if abs(skew) >= _MIN_SKEW_DEGREES:
        ink, rotation = rotate_ink(ink, skew)
    else:
        rotation = identity_rotation()
    clean, lines, vertical = remove_form_lines(
        ink,
        px_per_mm=ppm,
        min_length_mm=params.line_min_length_mm,
        max_thickness_mm=params.line_max_thickness_mm,
    )
    marks = _marks_of(clean, px_per_mm=ppm, params=params)
    # Boxes printed too light for line removal to find their rules leave their walls.
    wall_rows = find_wall_rows(marks, px_per_mm=ppm, min_height_mm=params.min_digit_height_mm)
    if wall_rows:
        marks = _marks_of(erase_wall_rows(clean, wall_rows), px_per_mm=ppm, params=params)
    grouping = {
        "px_per_mm": ppm,
        "min_height_mm": params.min_digit_height_mm,
        "max_height_mm": params.max_digit_height_mm,
    }
    # The cells of box rows: a short digit standing in one is still a digit.
    cells = find_box_cells(lines, vertical, wall_rows, **grouping)
    # Box walls that line removal left are neither digits nor part of a field.
    walls = find_wall_stubs(marks, lines, px_per_mm=ppm, min_height_mm=params.min_digit_height_mm)
    named: list[tuple[str, list[int]]] = []
    if template is None:
        kept = np.flatnonzero(~walls)
        runs = group_fields(
            marks.boxes[kept],
            field_gap_mm=params.field_gap_mm,
            printed=None if marks.print_row is None else marks.print_row[kept],
            clutter=marks.clutter,
            cells=cells,
            **grouping,
        )
        named = [(f"line-{i + 1}", [int(kept[j]) for j in run]) for i, run in enumerate(runs)]
    else:
        for zone in template.zones:
            rect = zone_rect(zone, shape=shape, px_per_mm=page_ppm)
            inside = _zone_members(marks, rect, rotation, scale)
            inside = inside[~walls[inside]]
            printed = None if marks.print_row is None else marks.print_row[inside]
            runs = group_fields(
                marks.boxes[inside],
                field_gap_mm=1e9,
                printed=printed,
                clutter=marks.clutter,
                cells=cells,
                **grouping,
            )
            members = [int(inside[i]) for run in runs for i in run]
            if members:
                named.append((zone.name, members))
    crops = _digit_crops(
        marks,
        named,
        lines=lines,
        line_reach=max(2, round(0.4 * ppm)),
        max_gap=params.merge_gap_mm * ppm / 2.0,
        split_ratio=params.split_ratio,
        overlap_ratio=params.overlap_ratio,
        score_crops=score_crops,
        rotation=rotation,
        scale=scale,
        shape=shape,
    )
    fields: list[Field] = []
    for (name, _), digits in zip(named, crops, strict=True):
        if not digits:
            continue
        box = _union(np.array([d.box for d in digits]))
        fields.append(Field(name=name, box=box, digits=digits))
    left_out = map_boxes_back(_left_out(marks, named, walls), rotation, scale=scale, shape=shape)
    return SegmentedPage(
        fields=tuple(fields), skew_degrees=float(skew), px_per_mm=page_ppm, left_out=left_out
    )
