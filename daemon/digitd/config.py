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
type hints, so a tuning field added there is a configuration key at once.
Supported hints: bool, int, float, str, Path, Enum, Literal[...], X | None,
unions, tuple[X, ...], tuple[X, Y], dict[str, X] and nested dataclasses.
Numeric bounds come from field metadata: ``field(default=1, metadata={"ge": 1})``
(keys ``ge``, ``gt``, ``le``, ``lt``); a ``ValueError`` raised by a dataclass's
``__post_init__`` is reported as a problem of its section.

Relative folder and model paths are relative to the daemon's working
directory. ``model: null`` (the default) means the model shipped in
``models/default.joblib``.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

import digitd
from digitd.errors import ConfigError
from digitd.pipeline.read import ReadParams
from digitd.pipeline.recognize import RecognitionParams
from digitd.pipeline.segment import SegmentationParams, Template, Zone

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
    "dataclass_from_mapping",
    "format_config",
    "load_config",
    "model_path",
    "read_params",
    "worker_count",
]

_T = TypeVar("_T")

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
# Layer 1: field by field, generically over the type hints


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_named_dataclass(hint: Any) -> bool:
    return dataclasses.is_dataclass(hint) and _hints(hint).get("name") is str


def _describe(hint: Any) -> str:
    """What a value of type ``hint`` looks like, in words, for error messages."""
    origin = typing.get_origin(hint)
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    if hint is Path:
        return "a path"
    if hint is type(None):
        return "null"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in hint)
    if origin is Literal and len(typing.get_args(hint)) == 1:
        return repr(typing.get_args(hint)[0])
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            if _is_named_dataclass(args[0]):
                return f"a mapping of names to {args[0].__name__} settings, or a list"
            return f"a list of {_plural(args[0])}"
        return f"a list of exactly {len(args)} items ({', '.join(_describe(a) for a in args)})"
    if origin is dict:
        return f"a mapping of strings to {_plural(typing.get_args(hint)[1])}"
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    return getattr(hint, "__name__", str(hint))


def _plural(hint: Any) -> str:
    return {bool: "booleans", int: "integers", float: "numbers", str: "strings", Path: "paths"}.get(
        hint, "items: " + _describe(hint)
    )


def _bounds_text(meta: Mapping[str, Any]) -> str:
    ops = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    return " and ".join(f"{ops[k]} {meta[k]}" for k in ops if k in meta)


def _violates(value: Any, meta: Mapping[str, Any]) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return (
        ("ge" in meta and value < meta["ge"])
        or ("gt" in meta and value <= meta["gt"])
        or ("le" in meta and value > meta["le"])
        or ("lt" in meta and value >= meta["lt"])
    )


class _Invalid(Exception):
    """Raised inside the converter when a value has been reported as a problem."""


def _expected(hint: Any, meta: Mapping[str, Any]) -> str:
    bounds = _bounds_text(meta)
    return f"{_describe(hint)} ({bounds})" if bounds else _describe(hint)


def _convert(
    value: Any, hint: Any, path: str, problems: list[str], meta: Mapping[str, Any] | None = None
) -> Any:
    """Turn a YAML value into a value of type ``hint``, or record why not.

    ``meta`` holds the field's bounds, named in the message of a wrong type.
    """
    meta = meta or {}

    def bad() -> _Invalid:
        where = path or "the configuration"
        problems.append(f"{where}: expected {_expected(hint, meta)}, got {value!r}")
        return _Invalid()

    origin = typing.get_origin(hint)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise bad()
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise bad()
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise bad()
    if hint is str:
        if isinstance(value, str):
            return value
        raise bad()
    if hint is Path:
        if isinstance(value, str) and value.strip():
            return Path(value).expanduser()
        raise bad()
    if hint is type(None):
        if value is None:
            return None
        raise bad()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            raise bad() from None
    if origin is Literal:
        if any(value == a and type(value) is type(a) for a in typing.get_args(hint)):
            return value
        raise bad()
    if origin in (typing.Union, types.UnionType):
        return _convert_union(value, hint, path, problems, meta)
    if origin is tuple:
        return _convert_tuple(value, hint, path, problems)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise bad()
        key_hint, value_hint = typing.get_args(hint)
        out = {}
        failed = False
        for k, v in value.items():
            try:
                out[_convert(k, key_hint, f"{path}.{k}", problems)] = _convert(
                    v, value_hint, f"{path}.{k}", problems
                )
            except _Invalid:
                failed = True
        if failed:
            raise _Invalid()
        return out
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise bad()
        return _convert_dataclass(value, hint, path, problems)
    raise TypeError(f"config.py cannot map type {hint!r} at {path}; teach _convert about it")


def _convert_union(
    value: Any, hint: Any, path: str, problems: list[str], meta: Mapping[str, Any]
) -> Any:
    args = typing.get_args(hint)
    if value is None and type(None) in args:
        return None
    rest = [a for a in args if a is not type(None)]
    if len(rest) == 1 and (dataclasses.is_dataclass(rest[0]) or typing.get_origin(rest[0])):
        # a structured alternative: its own, more precise problems
        return _convert(value, rest[0], path, problems, meta)
    for alternative in rest:
        scratch: list[str] = []
        try:
            return _convert(value, alternative, path, scratch)
        except _Invalid:
            continue
    problems.append(f"{path}: expected {_expected(hint, meta)}, got {value!r}")
    raise _Invalid()


def _convert_tuple(value: Any, hint: Any, path: str, problems: list[str]) -> tuple[Any, ...]:
    args = typing.get_args(hint)
    variadic = len(args) == 2 and args[1] is Ellipsis
    if variadic and _is_named_dataclass(args[0]) and isinstance(value, Mapping):
        return _convert_named(value, args[0], path, problems)
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple):
        problems.append(f"{path}: expected {_describe(hint)}, got {value!r}")
        raise _Invalid()
    if not variadic and len(value) != len(args):
        problems.append(f"{path}: expected {_describe(hint)}, got {value!r}")
        raise _Invalid()
    item_hints = [args[0]] * len(value) if variadic else list(args)
    out = []
    failed = False
    for i, (item, item_hint) in enumerate(zip(value, item_hints, strict=True)):
        try:
            out.append(_convert(item, item_hint, f"{path}[{i}]", problems))
        except _Invalid:
            failed = True
    if failed:
        raise _Invalid()
    result = tuple(out)
    if variadic and _is_named_dataclass(args[0]):
        _check_unique_names(result, path, problems)
    return result


def _convert_named(
    value: Mapping[Any, Any], cls: type, path: str, problems: list[str]
) -> tuple[Any, ...]:
    """A mapping ``{name: settings}`` of dataclasses that carry a ``name`` field."""
    out = []
    failed = False
    for name, body in value.items():
        item_path = f"{path}.{name}"
        if not isinstance(name, str):
            problems.append(f"{item_path}: a name must be a string, got {name!r}")
            failed = True
            continue
        if body is None:
            body = {}
        if not isinstance(body, Mapping):
            problems.append(f"{item_path}: expected a mapping, got {body!r}")
            failed = True
            continue
        if "name" in body and body["name"] != name:
            problems.append(
                f"{item_path}.name: {body['name']!r} differs from its key {name!r}; drop it"
            )
            failed = True
            continue
        try:
            out.append(_convert_dataclass({**body, "name": name}, cls, item_path, problems))
        except _Invalid:
            failed = True
    if failed:
        raise _Invalid()
    return tuple(out)


def _check_unique_names(items: tuple[Any, ...], path: str, problems: list[str]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.name in seen:
            problems.append(f"{path}[{i}].name: {item.name!r} is used twice; names must differ")
            raise _Invalid()
        seen.add(item.name)


def _suggest(key: str, hints: Mapping[str, Any], prefix: str) -> str:
    """A hint for an unknown key: a near spelling, the section it belongs in, or the choices."""
    for name, hint in hints.items():
        if dataclasses.is_dataclass(hint) and key in {f.name for f in dataclasses.fields(hint)}:
            return f"did you mean {prefix}{name}.{key}? it belongs in the {name!r} section"
    near = difflib.get_close_matches(key, hints, n=1)
    if near:
        return f"did you mean {near[0]!r}?"
    return f"expected one of: {', '.join(hints)}"


def _convert_dataclass(value: Mapping[Any, Any], cls: type, path: str, problems: list[str]) -> Any:
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    prefix = f"{path}." if path else ""
    failed = False
    for key in value:
        if key not in fields:
            problems.append(f"{prefix}{key}: unknown key ({_suggest(str(key), hints, prefix)})")
            failed = True
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        key_path = f"{prefix}{name}"
        if name not in value:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append(f"{key_path}: missing (expected {_describe(hints[name])})")
                failed = True
            continue
        try:
            converted = _convert(value[name], hints[name], key_path, problems, f.metadata)
        except _Invalid:
            failed = True
            continue
        if _violates(converted, f.metadata):
            problems.append(
                f"{key_path}: expected {_expected(hints[name], f.metadata)}, got {value[name]!r}"
            )
            failed = True
            continue
        kwargs[name] = converted
    if failed:
        raise _Invalid()
    try:
        instance = cls(**kwargs)
    except (ValueError, TypeError) as exc:
        problems.append(f"{path or 'config'}: {exc}")
        raise _Invalid() from None
    check = _SECTION_CHECKS.get(cls)
    if check is not None:
        before = len(problems)
        check(instance, path, problems)
        if len(problems) > before:
            raise _Invalid()
    return instance


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
_SECTION_CHECKS: dict[type, Callable[[Any, str, list[str]], None]] = {
    WatchConfig: _check_watch,
    Template: _check_template,
    Zone: _check_zone,
}


def dataclass_from_mapping(
    cls: type[_T], mapping: Mapping[str, Any] | None, *, path: str = ""
) -> _T:
    """Build any dataclass from plain data, generically by its fields and type hints.

    Parameters
    ----------
    cls : dataclass type
    mapping : mapping or None
        None means every field at its default.
    path : str
        Key path of ``mapping`` in the file, prefixed to every problem.

    Returns
    -------
    An instance of ``cls``.

    Raises
    ------
    ConfigError
        One line per problem, each naming the key path, the bad value and
        what was expected.
    TypeError
        ``cls`` has a field whose type hint the mapper does not support (a
        programming error, not a configuration one).
    """
    problems: list[str] = []
    try:
        return _convert(mapping, cls, path, problems)
    except _Invalid:
        raise ConfigError(problems) from None


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
    return dataclass_from_mapping(Config, mapping)


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


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        if value and all(_is_named_dataclass(type(v)) for v in value):
            return {v.name: {k: b for k, b in _to_plain(v).items() if k != "name"} for v in value}
        return [_to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    return value


def config_to_mapping(config: Config) -> dict[str, Any]:
    """The configuration as plain YAML-ready data; ``config_from_mapping`` inverts it."""
    return _to_plain(config)


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
