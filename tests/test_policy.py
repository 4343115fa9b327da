"""Configuration (select, ignore, severity) and `# allow:` suppressions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PRELUDE, check_files, codes, run_cli, write
from validator.pipeline.config import Config, ConfigError, config_for, find_config, load_config
from validator.pipeline.policy import enabled

# One register with three hazards: S201, S202 (vm state, vCPU path, VM lock) and C503 (new).
HAZARDS = (
    PRELUDE
    + """
register R {COMMENT
  id       0x6030_0000_0010_0000
  width    64
  scope    vm
  via      one_reg
  lock     vm_lock
  migrate  yes
  writable before first_run else EBUSY
  rewrite  same_value ok
  uniform  last_wins
  since    "2.0"
}
"""
)


def spec(tmp_path, comment: str = "", name: str = "s.uapi"):
    return write(tmp_path, name, HAZARDS.replace("COMMENT", comment))


@pytest.mark.parametrize(
    ("select", "ignore", "code", "expected"),
    [
        ((), (), "S201", True),
        ((), ("S",), "S201", False),
        (("S",), ("S201",), "S201", False),
        (("S",), ("S201",), "S202", True),
        (("S201",), ("S",), "S201", True),  # the longer prefix wins
        (("C",), (), "S201", False),
        (("S201",), ("S201",), "S201", False),  # ignore wins a tie
    ],
)
def test_longest_prefix_decides(select, ignore, code, expected) -> None:
    assert enabled(code, Config(select, ignore)) is expected


def test_ignore_by_name_and_family(tmp_path) -> None:
    path = spec(tmp_path)
    assert codes(check_files(path)) == {"S201", "S202", "C503"}
    write(tmp_path, "uapi-validator.toml", 'ignore = ["new-listed-state", "S2"]\nselect = ["S202"]\n')
    from validator.pipeline.engine import check_paths

    report = check_paths([str(path)], load_config(find_config(path)))
    assert codes(report) == {"S202"}


def test_severity_change_reaches_the_exit_status(tmp_path) -> None:
    path = spec(tmp_path)
    assert run_cli("check", str(path)).returncode == 0
    write(tmp_path, "uapi-validator.toml", '[severity]\nS202 = "error"\n')
    result = run_cli("check", str(path), "--format", "json")
    assert result.returncode == 1
    severities = {f["code"]: f["severity"] for f in json.loads(result.stdout)["findings"]}
    assert severities["S202"] == "error" and severities["S201"] == "warning"


def test_pyproject_table_is_found_upward(tmp_path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n[tool.uapi-validator]\nignore = ["C"]\n')
    path = spec(tmp_path / "deep" / "er")
    assert find_config(path) == (tmp_path / "pyproject.toml").resolve()
    result = run_cli("check", str(path), "--format", "json")
    assert "C503" not in {f["code"] for f in json.loads(result.stdout)["findings"]}


@pytest.mark.parametrize(
    ("files", "read"),
    [
        ({"pyproject.toml": '[tool.uapi-validator]\nignore = ["C"]\n'}, ["pyproject.toml"]),
        (
            {"uapi-validator.toml": 'select = ["S"]\n', "pyproject.toml": "[tool.uapi-validator]\n"},
            ["uapi-validator.toml"],
        ),
        ({"pyproject.toml": '[project]\nname = "x"\n'}, ["pyproject.toml"]),
        ({}, []),
    ],
    ids=["pyproject", "own-file-first", "no-table", "none"],
)
def test_config_for_is_find_then_load_reading_each_file_once(tmp_path, monkeypatch, files, read) -> None:
    from validator.frontend import textfile

    for name, text in files.items():
        write(tmp_path, name, text)
    path = spec(tmp_path / "deep")
    expected = load_config(find_config(path))
    reads: list[str] = []
    real = textfile.read_text
    monkeypatch.setattr(textfile, "read_text", lambda p, *a, **k: reads.append(p) or real(p, *a, **k))
    assert config_for(path) == expected
    assert [Path(p).name for p in reads] == read


def test_explicit_config_file_wins(tmp_path) -> None:
    path = spec(tmp_path)
    write(tmp_path, "uapi-validator.toml", 'ignore = ["S"]\n')
    other = write(tmp_path, "other.toml", 'ignore = ["C"]\n')
    document = json.loads(run_cli("check", str(path), "--format", "json", "--config", str(other)).stdout)
    assert {f["code"] for f in document["findings"]} == {"S201", "S202"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('ignore = ["Z9"]\n', "names no rule, family or code prefix"),
        ('colour = "red"\n', "unknown setting 'colour'"),
        ("ignore = \n", "not valid TOML"),
        ('[severity]\nS202 = "fatal"\n', "must be one of error, warning, info"),
        ('[severity]\nS = "error"\n', "is not a single rule"),
        ('select = "S201"\n', "must be a list"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path, text, message) -> None:
    bad = write(tmp_path, "bad.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_config(bad)
    result = run_cli("check", str(spec(tmp_path)), "--config", str(bad))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_missing_config_file_is_exit_2(tmp_path) -> None:
    result = run_cli("check", str(spec(tmp_path)), "--config", str(tmp_path / "none.toml"))
    assert result.returncode == 2 and "no such configuration file" in result.stderr


def test_allow_on_the_declaration_line_suppresses_and_keeps_the_reason(tmp_path) -> None:
    path = spec(tmp_path, comment="   # allow: S201, serialized-restore -- per-VM by design; see the review thread")
    result = run_cli("check", str(path), "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    suppressed = {f["code"]: f["suppressed"]["reason"] for f in findings if "suppressed" in f}
    assert suppressed == {
        "S201": "per-VM by design; see the review thread",
        "S202": "per-VM by design; see the review thread",
    }
    assert json.loads(result.stdout)["summary"] == {"error": 0, "warning": 0, "info": 1}
    text = run_cli("check", str(path), "--color", "never").stdout
    assert "[S201 " not in text and "[S202 " not in text
    assert text.splitlines()[-1].endswith(": 1 info in 1 file (2 suppressed)")


def test_allow_on_the_line_above_applies_to_the_declaration(tmp_path) -> None:
    text = HAZARDS.replace("COMMENT", "").replace("register R {", "# allow: C503 -- listed on purpose\nregister R {")
    path = write(tmp_path, "s.uapi", text)
    assert codes(check_files(path)) == {"S201", "S202"}


def test_allow_without_reason_is_reported_and_suppresses_nothing(tmp_path) -> None:
    path = spec(tmp_path, comment="   # allow: S201")
    report = check_files(path)
    assert codes(report) == {"S201", "S202", "C503", "D801"}


def test_allow_that_suppresses_nothing_is_reported(tmp_path) -> None:
    path = spec(tmp_path, comment="   # allow: L402, S201 -- stale")
    report = check_files(path)
    assert codes(report) == {"S202", "C503", "D802"}
    [unused] = [f for f in report.findings if f.code == "D802"]
    assert "L402" in unused.message


def test_allow_naming_no_rule_is_reported(tmp_path) -> None:
    assert "D802" in codes(check_files(spec(tmp_path, comment="   # allow: Q999 -- typo")))


def test_expect_and_allow_in_one_comment(tmp_path) -> None:
    path = spec(tmp_path, comment="   # allow: S201 -- by design # expect: S202, C503")
    result = run_cli("test", str(path))
    assert result.returncode == 0, result.stdout
