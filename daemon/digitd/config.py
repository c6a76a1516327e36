"""The configuration: one frozen dataclass tree, validated once at the edge.

Two layers, both before any work is done:

1. ``config_from_mapping`` checks the YAML field by field against the type
   hints of the dataclass tree. Unknown keys, wrong types and out-of-range
   values are collected, every one naming its key path, the bad value and
   what was expected, and raised together as one ``ConfigError``.
2. ``check_environment`` checks a valid configuration against the machine:
   the model file exists, no output folder lies inside the inbox, no two
   folders are the same.

The ``recognition`` and ``segmentation`` sections are mapped generically onto
``RecognitionParams`` and ``SegmentationParams`` by their dataclass fields and
type hints (``digitd.typedmap``), so a tuning field added there is a
configuration key at once, with its type check and error messages.

Relative folder and model paths are relative to the daemon's working
directory. ``model: null`` (the default) means the model shipped in
``models/default.joblib``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

import digitd
from digitd.errors import ConfigError
from digitd.pipeline.read import ReadParams
from digitd.pipeline.recognize import RecognitionParams
from digitd.pipeline.segment import SegmentationParams, Template, Zone
from digitd.typedmap import SectionCheck, dataclass_from_mapping, to_plain

__all__ = [
    "SHIPPED_MODEL",
    "Config",
    "LimitsConfig",
    "LoadConfig",
    "LoggingConfig",
    "OutputsConfig",
    "RetryConfig",
    "WatchConfig",
    "check_environment",
    "check_folders",
    "check_model_file",
    "config_from_mapping",
    "config_to_mapping",
    "format_config",
    "load_config",
    "model_path",
    "read_params",
    "worker_count",
]

SHIPPED_MODEL = Path(digitd.__file__).resolve().parents[2] / "models" / "default.joblib"
"""The model used when the configuration says ``model: null``."""


def _ge(bound: float) -> dict[str, float]:
    return {"ge": bound}


def _gt(bound: float) -> dict[str, float]:
    return {"gt": bound}


@dataclass(frozen=True, slots=True)
class WatchConfig:
    """Which files of the inbox are taken, and when a file counts as complete."""

    patterns: tuple[str, ...] = ("*.png", "*.jpg", "*.jpeg", "*.tif", "*.tiff", "*.bmp", "*.pdf")
    ignore: tuple[str, ...] = (".*", "*.tmp", "*.part", "*.crdownload", "~*")
    recursive: bool = False
    settle_seconds: float = field(default=0.5, metadata=_ge(0))
    stable_seconds: float = field(default=5.0, metadata=_ge(0))
    polling: bool = False
    poll_interval_seconds: float = field(default=1.0, metadata=_gt(0))
    rescan_seconds: float = field(default=300.0, metadata=_gt(0))


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """How documents are decoded."""

    pdf_dpi: float = field(default=300.0, metadata={"ge": 50, "le": 1200})


@dataclass(frozen=True, slots=True)
class OutputsConfig:
    """Which files are written to the outbox for each document."""

    json: bool = True
    csv: bool = True
    annotated: bool = True
    rollup: bool = True


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """Refusals of hostile or broken input, and the time one document may take."""

    max_pixels: int = field(default=100_000_000, metadata=_ge(1))
    max_pages: int = field(default=50, metadata=_ge(1))
    max_file_bytes: int = field(default=200 * 1024 * 1024, metadata=_ge(1))
    document_timeout_seconds: float = field(default=120.0, metadata=_gt(0))


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """Retries of transient errors (a file locked or briefly missing)."""

    max_attempts: int = field(default=3, metadata=_ge(1))
    backoff_seconds: float = field(default=2.0, metadata=_ge(0))


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """``format: auto`` is JSON lines when stdout is not a terminal, else console."""

    format: Literal["auto", "json", "console"] = "auto"
    level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration of digitd; every key optional."""

    inbox: Path = Path("inbox")
    outbox: Path = Path("outbox")
    archive: Path = Path("archive")
    failed: Path = Path("failed")
    state_dir: Path = Path("state")
    workers: int | Literal["auto"] = field(default="auto", metadata=_ge(1))
    disposition: Literal["archive", "delete", "keep"] = "archive"
    duplicates: Literal["skip", "reprocess"] = "skip"
    shutdown_grace_seconds: float = field(default=30.0, metadata=_ge(0))
    watch: WatchConfig = field(default_factory=WatchConfig)
    model: Path | None = None
    load: LoadConfig = field(default_factory=LoadConfig)
    recognition: RecognitionParams = field(default_factory=RecognitionParams)
    segmentation: SegmentationParams = field(default_factory=SegmentationParams)
    templates: tuple[Template, ...] = ()
    outputs: OutputsConfig = field(default_factory=OutputsConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)


# ---------------------------------------------------------------------------
# Checks across the fields of one section


def _check_watch(watch: WatchConfig, path: str, problems: list[str]) -> None:
    if not watch.patterns:
        problems.append(f"{path}.patterns: expected at least one glob such as '*.png', got []")
    for key in ("patterns", "ignore"):
        for i, glob in enumerate(getattr(watch, key)):
            if not glob.strip() or "/" in glob:
                problems.append(
                    f"{path}.{key}[{i}]: expected a file-name glob such as '*.png' "
                    f"(no folders), got {glob!r}"
                )


def _check_template(template: Template, path: str, problems: list[str]) -> None:
    if not template.zones:
        problems.append(f"{path}.zones: a template needs at least one zone")
    if not template.match.strip():
        problems.append(f"{path}.match: expected a filename glob such as '*.png', got ''")


def _check_zone(zone: Zone, path: str, problems: list[str]) -> None:
    if zone.x < 0 or zone.y < 0:
        problems.append(f"{path}: x and y must be >= 0, got x={zone.x}, y={zone.y}")
    if zone.w <= 0 or zone.h <= 0:
        problems.append(f"{path}: w and h must be > 0, got w={zone.w}, h={zone.h}")
    if zone.unit == "fraction" and (zone.x + zone.w > 1 or zone.y + zone.h > 1):
        problems.append(
            f"{path}: a fraction zone must lie within the page (x + w <= 1 and "
            f"y + h <= 1), got x={zone.x}, y={zone.y}, w={zone.w}, h={zone.h}"
        )


# Checks across the fields of one section, run once its fields are valid.
_SECTION_CHECKS: dict[type, SectionCheck] = {
    WatchConfig: _check_watch,
    Template: _check_template,
    Zone: _check_zone,
}


def config_from_mapping(mapping: Mapping[str, Any] | None) -> Config:
    """Validate a parsed YAML document and build the configuration.

    Parameters
    ----------
    mapping : mapping or None
        The parsed file; None (an empty file) means all defaults.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        With one line per problem (unknown key, wrong type, value out of
        range), each naming the key path, the bad value and what was expected.
    """
    if mapping is not None and not isinstance(mapping, Mapping):
        raise ConfigError(
            [f"the configuration must be a mapping of keys to values, got {mapping!r}"]
        )
    return dataclass_from_mapping(Config, mapping, checks=_SECTION_CHECKS)


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} appears twice in one mapping (line {key_node.start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = True
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def load_config(path: Path | None) -> Config:
    """Read and validate a YAML configuration file.

    Parameters
    ----------
    path : Path or None
        The file; None means the built-in defaults.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        The file cannot be read, is not valid YAML, or has invalid values.
    """
    if path is None:
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc}") from None
    try:
        mapping = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    try:
        return config_from_mapping(mapping)
    except ConfigError as exc:
        raise ConfigError([f"{path}: {p}" for p in exc.problems]) from None


# ---------------------------------------------------------------------------
# Back to plain data, for printing the effective configuration


def config_to_mapping(config: Config) -> dict[str, Any]:
    """The configuration as plain YAML-ready data; ``config_from_mapping`` inverts it."""
    return to_plain(config)


class _FlowDict(dict):  # type: ignore[type-arg]
    """A mapping printed on one line, like the zones of ``config/digitd.yaml``."""


class _Dumper(yaml.SafeDumper):
    """Sections as blocks; lists, and mappings of scalars inside lists of items, on one line."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_flow_dict(dumper: yaml.SafeDumper, data: _FlowDict) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_FlowDict, _represent_flow_dict)


def _flow_leaves(value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict):
        if depth > 2 and all(not isinstance(v, dict | list) for v in value.values()):
            return _FlowDict(value)
        return {k: _flow_leaves(v, depth + 1) for k, v in value.items()}
    return value


def format_config(config: Config) -> str:
    """The configuration as a YAML document, laid out like ``config/digitd.yaml``."""
    return yaml.dump(
        _flow_leaves(config_to_mapping(config)),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
    )


# ---------------------------------------------------------------------------
# Derived values


def model_path(config: Config) -> Path:
    """The model file to load: the configured one, or the shipped default."""
    return SHIPPED_MODEL if config.model is None else config.model


def worker_count(config: Config) -> int:
    """Number of worker processes: the configured count, or the usable CPUs for ``auto``."""
    if config.workers != "auto":
        return int(config.workers)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def read_params(config: Config) -> ReadParams:
    """The pipeline's parameters from the configuration."""
    return ReadParams(
        segmentation=config.segmentation,
        recognition=config.recognition,
        templates=config.templates,
    )


# ---------------------------------------------------------------------------
# Layer 2: against the environment


def check_model_file(config: Config) -> None:
    """Check that the model file the configuration names (or the shipped one) exists.

    Raises
    ------
    ConfigError
        The path is missing or is not a regular file.
    """
    path = model_path(config)
    if not path.is_file():
        what = "the shipped model" if config.model is None else "model"
        raise ConfigError(
            f"model: {what} {str(path)!r} does not exist; give the path of a trained "
            "model file (digitd train writes one)"
        )


def _folders(config: Config) -> dict[str, Path]:
    return {
        "inbox": config.inbox,
        "outbox": config.outbox,
        "archive": config.archive,
        "failed": config.failed,
        "state_dir": config.state_dir,
    }


def check_folders(config: Config) -> None:
    """Raise ``ConfigError`` if folders coincide, one is a file, or an output lies in the inbox.

    Outputs inside the inbox would be taken as new inputs forever. Paths are
    resolved (symlinks followed) relative to the working directory; folders
    that do not exist yet are fine (the daemon creates them).

    Raises
    ------
    ConfigError
        One line per problem: two folders resolve to the same place, a folder
        path is an existing file, or outbox/archive/failed/state_dir lies
        inside the inbox.
    """
    resolved = {key: path.resolve() for key, path in _folders(config).items()}
    problems: list[str] = []
    for key, path in resolved.items():
        if path.exists() and not path.is_dir():
            problems.append(f"{key}: {str(path)!r} exists and is not a folder; name a folder")
    keys = list(resolved)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if resolved[a] == resolved[b]:
                problems.append(
                    f"{a} and {b} are the same folder ({str(resolved[a])!r}); give each its own"
                )
    inbox = resolved["inbox"]
    for key in keys[1:]:
        if resolved[key] != inbox and resolved[key].is_relative_to(inbox):
            problems.append(
                f"{key}: {str(resolved[key])!r} lies inside the inbox {str(inbox)!r}; "
                "its files would be read as new inputs; move it outside the inbox"
            )
    if problems:
        raise ConfigError(problems)


def check_environment(config: Config) -> None:
    """Run every environment check; raise one ``ConfigError`` with all problems.

    Raises
    ------
    ConfigError
        The model file is missing, folders coincide, or an output folder lies
        inside the inbox.
    """
    problems: list[str] = []
    for check in (check_model_file, check_folders):
        try:
            check(config)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
