"""`test`: a spec's `# expect:` comments against its findings, line by line."""

from __future__ import annotations

from tests.conftest import PRELUDE, run_cli, write

MATCHING = (
    PRELUDE
    + """
register R {                 # expect: L401
  scope    vcpu
  via      one_reg
  writable before first_run
}
register BITS {              # expect: reserved-bits-accepted
  bits {
    0 A
  }
}
"""
)


def test_matching_file_passes(tmp_path) -> None:
    path = write(tmp_path, "ok.uapi", MATCHING)
    result = run_cli("test", str(path))
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"PASS {path} (2 expected findings)",
        f"{path}: 1 passed, 0 failed, 0 skipped",
    ]


def test_missing_and_unexpected_findings_fail(tmp_path) -> None:
    text = MATCHING.replace("# expect: L401", "# expect: S201").replace("# expect: reserved-bits-accepted", "")
    path = write(tmp_path, "bad.uapi", text)
    result = run_cli("test", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    register_line = text.splitlines().index("register R {                 # expect: S201") + 1
    assert lines[0] == f"FAIL {path}"
    assert f"  {path}:{register_line}: missing S201 vm-state-on-vcpu-path" in lines[1]
    assert lines[2].startswith(f"  {path}:{register_line}: unexpected L401 deadline-without-errno: R is writable")
    assert "unexpected C502 reserved-bits-accepted" in lines[3]
    assert lines[-1].endswith(": 0 passed, 1 failed, 0 skipped")


def test_a_finding_expected_twice_must_be_reported_twice(tmp_path) -> None:
    path = write(tmp_path, "twice.uapi", MATCHING.replace("# expect: L401", "# expect: L401, L401"))
    assert run_cli("test", str(path)).returncode == 1


def test_unknown_rule_in_an_expectation_fails(tmp_path) -> None:
    path = write(tmp_path, "unknown.uapi", "lock a : vm   # expect: Q123\n")
    result = run_cli("test", str(path))
    assert result.returncode == 1 and "names Q123, which is no rule code or name" in result.stdout


def test_expected_syntax_error(tmp_path) -> None:
    path = write(tmp_path, "syntax.uapi", "lock a : vm\nlock b : vmx   # expect: E101\n")
    assert run_cli("test", str(path)).returncode == 0
