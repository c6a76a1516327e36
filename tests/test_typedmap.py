"""Building dataclasses from plain data by their type hints."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from digitd.errors import ConfigError
from digitd.typedmap import dataclass_from_mapping, to_plain


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True, slots=True)
class Inner:
    name: str
    size: int = 1


@dataclass(frozen=True, slots=True)
class Everything:
    flag: bool = False
    count: int = field(default=2, metadata={"ge": 1})
    ratio: float = field(default=0.5, metadata={"gt": 0, "le": 1})
    mode: Literal["a", "b"] = "a"
    colour: Colour = Colour.RED
    pair: tuple[int, int] = (1, 2)
    names: tuple[str, ...] = ()
    maybe: float | None = None
    table: dict[str, float] = field(default_factory=dict)
    inners: tuple[Inner, ...] = ()


def test_generic_mapping_handles_every_supported_hint() -> None:
    built = dataclass_from_mapping(
        Everything,
        {
            "flag": True,
            "count": 5,
            "ratio": 1,
            "mode": "b",
            "colour": "blue",
            "pair": [3, 4],
            "names": ["x", "y"],
            "maybe": 2,
            "table": {"k": 1},
            "inners": {"one": {"size": 7}, "two": None},
        },
    )
    assert built == Everything(
        flag=True,
        count=5,
        ratio=1.0,
        mode="b",
        colour=Colour.BLUE,
        pair=(3, 4),
        names=("x", "y"),
        maybe=2.0,
        table={"k": 1.0},
        inners=(Inner("one", 7), Inner("two")),
    )


def test_generic_mapping_collects_every_problem() -> None:
    with pytest.raises(ConfigError) as info:
        dataclass_from_mapping(
            Everything,
            {
                "flag": "yes",
                "count": 0,
                "ratio": 1.5,
                "mode": "c",
                "colour": "green",
                "pair": [1],
                "names": "x",
                "maybe": "two",
                "table": {"k": "v"},
                "inners": [{"name": "a"}, {"name": "a"}],
                "extra": 1,
            },
            path="section",
        )
    problems = info.value.problems
    expected = [
        "section.flag: expected true or false, got 'yes'",
        "section.count: expected an integer (>= 1), got 0",
        "section.ratio: expected a number (> 0 and <= 1), got 1.5",
        "section.mode: expected one of 'a', 'b', got 'c'",
        "section.colour: expected one of 'red', 'blue', got 'green'",
        "section.pair: expected a list of exactly 2 items",
        "section.names: expected a list of strings, got 'x'",
        "section.maybe: expected a number or null, got 'two'",
        "section.table.k: expected a number, got 'v'",
        "section.inners[1].name: 'a' is used twice",
        "section.extra: unknown key",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected)


def test_unsupported_hint_is_a_programming_error() -> None:
    @dataclass(frozen=True)
    class Odd:
        things: set[int] = field(default_factory=set)

    with pytest.raises(TypeError, match="things"):
        dataclass_from_mapping(Odd, {"things": [1]})


def test_plain_data_round_trips() -> None:
    built = Everything(colour=Colour.BLUE, names=("a",), inners=(Inner("x", 3),), maybe=1.5)
    plain = to_plain(built)
    assert plain["inners"] == {"x": {"size": 3}}
    assert plain["colour"] == "blue"
    assert dataclass_from_mapping(Everything, plain) == built


@dataclass(frozen=True, slots=True)
class Paths:
    folder: Path = Path("x")


def test_paths_expand_home() -> None:
    assert dataclass_from_mapping(Paths, {"folder": "~/in"}).folder == Path.home() / "in"


@dataclass(frozen=True, slots=True)
class Checked:
    low: int = 0
    high: int = 1

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low must not exceed high, got {self.low} > {self.high}")


def test_post_init_errors_and_section_checks_become_problems() -> None:
    with pytest.raises(ConfigError) as info:
        dataclass_from_mapping(Checked, {"low": 3, "high": 2}, path="range")
    assert info.value.problems == ["range: low must not exceed high, got 3 > 2"]

    def no_zero(item: Checked, path: str, problems: list[str]) -> None:
        if item.low == 0:
            problems.append(f"{path}.low: must not be 0")

    with pytest.raises(ConfigError) as info:
        dataclass_from_mapping(Checked, {}, path="range", checks={Checked: no_zero})
    assert info.value.problems == ["range.low: must not be 0"]
