"""Build frozen dataclasses from plain data (parsed YAML), generically by their type hints.

``dataclass_from_mapping(cls, mapping)`` walks the fields of ``cls`` and
converts each value by the field's type hint, collecting every problem as
one line that names the key path, the bad value and what was expected;
``to_plain`` goes back. Whoever adds a field to a dataclass gets its key, its
type check and its error messages without touching this module.

Supported hints: bool, int, float (finite), str, Path (``~`` expanded), Enum,
Literal[...], X | None, unions, tuple[X, ...], tuple[X, Y], dict[str, X] and
nested dataclasses. A tuple of dataclasses that have a ``name: str`` field
may also be written as a mapping from the names to the other fields. Numeric
bounds come from field metadata, ``field(default=1, metadata={"ge": 1})``
(keys ``ge``, ``gt``, ``le``, ``lt``); a ``ValueError`` or ``TypeError`` raised
by a dataclass's ``__post_init__`` is reported as a problem of its section;
``checks`` maps a dataclass to a function that reports problems across the
fields of one valid instance.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from digitd.errors import ConfigError

__all__ = ["SectionCheck", "dataclass_from_mapping", "to_plain"]

_T = TypeVar("_T")

SectionCheck = Callable[[Any, str, list[str]], None]
"""``check(instance, key_path, problems)``: append one line per problem."""


@dataclass(slots=True)
class _Context:
    """Problems found so far, and the checks to run on each built section."""

    checks: Mapping[type, SectionCheck] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


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
    value: Any, hint: Any, path: str, ctx: _Context, meta: Mapping[str, Any] | None = None
) -> Any:
    """Turn a YAML value into a value of type ``hint``, or record why not.

    ``meta`` holds the field's bounds, named in the message of a wrong type.
    """
    meta = meta or {}

    def bad() -> _Invalid:
        where = path or "the configuration"
        ctx.problems.append(f"{where}: expected {_expected(hint, meta)}, got {value!r}")
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
        return _convert_union(value, hint, path, ctx, meta)
    if origin is tuple:
        return _convert_tuple(value, hint, path, ctx)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise bad()
        key_hint, value_hint = typing.get_args(hint)
        out = {}
        failed = False
        for k, v in value.items():
            try:
                out[_convert(k, key_hint, f"{path}.{k}", ctx)] = _convert(
                    v, value_hint, f"{path}.{k}", ctx
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
        return _convert_dataclass(value, hint, path, ctx)
    raise TypeError(f"config.py cannot map type {hint!r} at {path}; teach _convert about it")


def _convert_union(value: Any, hint: Any, path: str, ctx: _Context, meta: Mapping[str, Any]) -> Any:
    args = typing.get_args(hint)
    if value is None and type(None) in args:
        return None
    rest = [a for a in args if a is not type(None)]
    if len(rest) == 1 and (dataclasses.is_dataclass(rest[0]) or typing.get_origin(rest[0])):
        # a structured alternative: its own, more precise problems
        return _convert(value, rest[0], path, ctx, meta)
    for alternative in rest:
        scratch = _Context(checks=ctx.checks)
        try:
            return _convert(value, alternative, path, scratch)
        except _Invalid:
            continue
    ctx.problems.append(f"{path}: expected {_expected(hint, meta)}, got {value!r}")
    raise _Invalid()


def _convert_tuple(value: Any, hint: Any, path: str, ctx: _Context) -> tuple[Any, ...]:
    args = typing.get_args(hint)
    variadic = len(args) == 2 and args[1] is Ellipsis
    if variadic and _is_named_dataclass(args[0]) and isinstance(value, Mapping):
        return _convert_named(value, args[0], path, ctx)
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple):
        ctx.problems.append(f"{path}: expected {_describe(hint)}, got {value!r}")
        raise _Invalid()
    if not variadic and len(value) != len(args):
        ctx.problems.append(f"{path}: expected {_describe(hint)}, got {value!r}")
        raise _Invalid()
    item_hints = [args[0]] * len(value) if variadic else list(args)
    out = []
    failed = False
    for i, (item, item_hint) in enumerate(zip(value, item_hints, strict=True)):
        try:
            out.append(_convert(item, item_hint, f"{path}[{i}]", ctx))
        except _Invalid:
            failed = True
    if failed:
        raise _Invalid()
    result = tuple(out)
    if variadic and _is_named_dataclass(args[0]):
        _check_unique_names(result, path, ctx)
    return result


def _convert_named(
    value: Mapping[Any, Any], cls: type, path: str, ctx: _Context
) -> tuple[Any, ...]:
    """A mapping ``{name: settings}`` of dataclasses that carry a ``name`` field."""
    out = []
    failed = False
    for name, body in value.items():
        item_path = f"{path}.{name}"
        if not isinstance(name, str):
            ctx.problems.append(f"{item_path}: a name must be a string, got {name!r}")
            failed = True
            continue
        if body is None:
            body = {}
        if not isinstance(body, Mapping):
            ctx.problems.append(f"{item_path}: expected a mapping, got {body!r}")
            failed = True
            continue
        if "name" in body and body["name"] != name:
            ctx.problems.append(
                f"{item_path}.name: {body['name']!r} differs from its key {name!r}; drop it"
            )
            failed = True
            continue
        try:
            out.append(_convert_dataclass({**body, "name": name}, cls, item_path, ctx))
        except _Invalid:
            failed = True
    if failed:
        raise _Invalid()
    return tuple(out)


def _check_unique_names(items: tuple[Any, ...], path: str, ctx: _Context) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.name in seen:
            ctx.problems.append(f"{path}[{i}].name: {item.name!r} is used twice; names must differ")
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


def _convert_dataclass(value: Mapping[Any, Any], cls: type, path: str, ctx: _Context) -> Any:
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    prefix = f"{path}." if path else ""
    failed = False
    for key in value:
        if key not in fields:
            ctx.problems.append(f"{prefix}{key}: unknown key ({_suggest(str(key), hints, prefix)})")
            failed = True
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        key_path = f"{prefix}{name}"
        if name not in value:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                ctx.problems.append(f"{key_path}: missing (expected {_describe(hints[name])})")
                failed = True
            continue
        try:
            converted = _convert(value[name], hints[name], key_path, ctx, f.metadata)
        except _Invalid:
            failed = True
            continue
        if _violates(converted, f.metadata):
            ctx.problems.append(
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
        ctx.problems.append(f"{path or 'config'}: {exc}")
        raise _Invalid() from None
    check = ctx.checks.get(cls)
    if check is not None:
        before = len(ctx.problems)
        check(instance, path, ctx.problems)
        if len(ctx.problems) > before:
            raise _Invalid()
    return instance


def dataclass_from_mapping(
    cls: type[_T],
    mapping: Mapping[str, Any] | None,
    *,
    path: str = "",
    checks: Mapping[type, SectionCheck] | None = None,
) -> _T:
    """Build a dataclass from plain data, generically by its fields and type hints.

    Parameters
    ----------
    cls : dataclass type
    mapping : mapping or None
        None means every field at its default.
    path : str
        Key path of ``mapping`` in the file, prefixed to every problem.
    checks : mapping of dataclass type to callable, optional
        Run on every instance of that type once its own fields are valid.

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
    ctx = _Context(checks=checks or {})
    try:
        return _convert(mapping, cls, path, ctx)
    except _Invalid:
        raise ConfigError(ctx.problems) from None


def to_plain(value: Any) -> Any:
    """Plain YAML-ready data from a dataclass tree; ``dataclass_from_mapping`` inverts it.

    Paths become strings, enums their values, tuples lists, and a tuple of
    dataclasses with a ``name`` field a mapping from the names to the rest.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        if value and all(_is_named_dataclass(type(v)) for v in value):
            return {v.name: {k: b for k, b in to_plain(v).items() if k != "name"} for v in value}
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value
