"""The command line as users and CI meet it: formats, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import PRELUDE, ROOT, run_cli, write

HAZARD = (
    PRELUDE
    + """
register R {
  id       0x6030_0000_0010_0000
  width    64
  scope    vcpu
  via      one_reg
  migrate  yes
  writable before first_run
}
"""
)


def test_check_text_shows_location_caret_related_and_summary(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", HAZARD)
    result = run_cli("check", str(path), "--color", "never")
    assert result.returncode == 0  # warnings do not reach the default fail level
    lines = result.stdout.splitlines()
    line = HAZARD.splitlines().index("register R {") + 1
    assert lines[0] == f"{path}:{line}:1: warning[L401 deadline-without-errno]: " + (
        "R is writable only before first_run, but the spec does not say which errno a later write gets"
    )
    assert lines[1] == f"{line} | register R {{"
    assert lines[2] == " " * len(str(line)) + " | ^^^^^^^^^^"
    assert lines[3].startswith(f"  note: {path}:{line + 6}:3: deadline first_run")
    assert lines[-1] == f"{path}: 1 warning in 1 file"  # the summary names what was checked
    assert "\x1b[" not in result.stdout


def test_fail_on_levels(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", HAZARD)
    assert run_cli("check", str(path), "--fail-on", "warning").returncode == 1
    assert run_cli("check", str(path), "--fail-on", "info").returncode == 1
    assert run_cli("check", str(path), "--fail-on", "error").returncode == 0
    errors = write(tmp_path, "e.uapi", "lock a : vm\nlock a : vm\n")
    assert run_cli("check", str(errors), "--fail-on", "never").returncode == 0
    assert run_cli("check", str(errors)).returncode == 1


def test_json_format_shape_and_order(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", HAZARD + "lock vm_lock : vm\n")
    result = run_cli("check", str(path), "--format", "json")
    document = json.loads(result.stdout)
    assert document["tool"]["name"] == "uapi-validator" and document["tool"]["version"]
    assert list(document) == ["tool", "findings", "summary"]
    [finding] = document["findings"]
    expected_keys = {
        "code",
        "name",
        "severity",
        "message",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "subject",
        "related",
    }
    assert expected_keys <= set(finding)
    assert (finding["code"], finding["name"], finding["severity"]) == ("E103", "duplicate-name", "error")
    assert finding["related"][0] == {
        "path": str(path),
        "line": 3,
        "column": 1,
        "message": "first declaration of vm_lock",
    }
    assert document["summary"] == {"error": 1, "warning": 0, "info": 0}


def test_json_findings_are_sorted_by_path_line_column_code(tmp_path) -> None:
    write(tmp_path, "b.uapi", "lock a : vm\nlock a : vm\n")
    write(tmp_path, "a.uapi", HAZARD)
    document = json.loads(run_cli("check", str(tmp_path), "--format", "json").stdout)
    keys = [(f["path"], f["line"], f["column"], f["code"]) for f in document["findings"]]
    assert keys == sorted(keys) and len(keys) == 2


def test_output_file_is_written_and_stdout_stays_empty(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", HAZARD)
    out = tmp_path / "report.json"
    result = run_cli("check", str(path), "--format", "json", "--output", str(out))
    assert result.stdout == "" and json.loads(out.read_text())["summary"]["warning"] == 1


def test_color_always_and_no_color(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", HAZARD)
    assert "\x1b[" in run_cli("check", str(path), "--color", "always").stdout
    assert "\x1b[" not in run_cli("check", str(path), "--color", "auto", env={"NO_COLOR": "1"}).stdout


def test_syntax_error_prints_file_line_col_and_exits_1(tmp_path) -> None:
    path = write(tmp_path, "bad.uapi", "lock a : vm\nregister R {\n  widht 64\n}\n")
    result = run_cli("check", str(path))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}:3:3: error[E101 syntax-error]: unexpected 'widht'; expected one of ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "does/not/exist.uapi"), "uapi-validator: error: does/not/exist.uapi: no such file or folder"),
        (("check", "--format", "yaml"), "invalid choice: 'yaml'"),
        (("check", "--fail-on", "sometimes"), "invalid choice"),
        (("explain", "Z999"), "uapi-validator: error: no rule has the code or name 'Z999'"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_and_io_errors_exit_2_with_one_line(args, message) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # argparse adds its usage line
    assert "Traceback" not in result.stderr


def test_missing_file_is_one_line(tmp_path) -> None:
    result = run_cli("check", str(tmp_path / "missing.uapi"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"uapi-validator: error: {tmp_path / 'missing.uapi'}: no such file or folder"
    ]


def test_unreadable_folder_is_exit_2(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", "lock a : vm\n")
    path.chmod(0)
    try:
        result = run_cli("check", str(path))
        if result.returncode == 0:  # root reads anything: nothing to assert on this machine
            pytest.skip("running as a user that can read mode-0 files")
        assert result.returncode == 2 and "cannot read" in result.stderr
    finally:
        path.chmod(0o644)


def test_output_to_a_missing_folder_is_exit_2_and_writes_nothing(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", HAZARD)
    result = run_cli("check", str(path), "-o", str(tmp_path / "no" / "such" / "r.json"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "no").exists()


def test_check_without_paths_checks_the_configured_paths() -> None:
    # The project's pyproject.toml names spec/: run from anywhere in the clone, both entry
    # points check the clone's spec/, not an installed copy.
    for cwd in (ROOT, ROOT / "spec" / "kvm"):
        result = run_cli("check", "--color", "never", cwd=cwd)
        assert result.returncode == 1
        summary = result.stdout.splitlines()[-1]
        assert summary.startswith(f"{'spec' if cwd == ROOT else ROOT / 'spec'}: 52 errors, ")
        assert "spec/rules/E101-syntax-error/fail.uapi" in result.stdout


def test_check_without_paths_or_configuration_checks_the_bundled_kvm_spec(tmp_path) -> None:
    result = run_cli("check", "--color", "never", cwd=tmp_path)
    # Exit 1: two real-KVM scenarios fail as they should (X701 SVE VLS replug, X702 bitmaps),
    # and the real ioctl hazards the x86 spec keeps (I102, I106; B606 in its history).
    assert result.returncode == 1
    assert "kvm/arm64/firmware.uapi" in result.stdout
    assert result.stdout.splitlines()[-1].endswith(
        ": 9 errors, 51 warnings, 2 info in 16 files, 3 already in the baseline (3 suppressed)"
    )
    assert "spec/rules" not in result.stdout


def test_configured_paths_are_relative_to_the_configuration_file(tmp_path) -> None:
    write(tmp_path, "uapi-validator.toml", 'paths = ["specs/"]\n')
    write(tmp_path / "specs", "a.uapi", "lock l : vm\nlock l : vm\n")
    (tmp_path / "sub").mkdir()
    for cwd in (tmp_path, tmp_path / "sub"):
        result = run_cli("check", "--color", "never", cwd=cwd)
        assert result.returncode == 1 and "E103" in result.stdout
        shown = "specs" if cwd == tmp_path else tmp_path / "specs"  # relative only below the user
        assert result.stdout.splitlines()[-1].startswith(f"{shown}: 1 error")
    tests = run_cli("test", cwd=tmp_path / "sub")
    assert tests.stdout.splitlines()[-1] == f"{tmp_path / 'specs'}: 0 passed, 1 failed, 0 skipped"
    review = run_cli("review", cwd=tmp_path)
    assert "specs/a.uapi" in review.stdout and review.returncode == 1


def test_rules_lists_every_code_in_catalog_order() -> None:
    from validator.rules import CATALOG

    result = run_cli("rules")
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [r.code for r in CATALOG]
    assert len(lines) >= 34  # every code of RULES.md, and the project's additions
    assert lines[0].split()[:3] == ["E101", "syntax-error", "error"]


@pytest.mark.parametrize("name", ["S201", "vm-state-on-vcpu-path", "s201"])
def test_explain_by_code_or_name(name) -> None:
    result = run_cli("explain", name)
    assert result.returncode == 0
    assert result.stdout.startswith("S201 vm-state-on-vcpu-path (warning)")
    assert "Why it matters" in result.stdout and "How to fix" in result.stdout


def test_explain_works_for_every_code() -> None:
    from validator.rules import CATALOG

    for rule in CATALOG:
        result = run_cli("explain", rule.code)
        assert result.returncode == 0, rule.code
        assert "What it finds" in result.stdout


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("uapi-validator ")


def test_the_cycle_collector_is_paused_only_while_a_command_runs(tmp_path, monkeypatch) -> None:
    import gc

    from validator import cli
    from validator.commands import authoring
    from validator.commands import check as checking

    seen = []

    def watched(module, name, run):
        patched = tuple(c._replace(run=run) if c.name == name else c for c in module.COMMANDS)
        monkeypatch.setattr(module, "COMMANDS", patched)

    real_check = checking.check
    watched(checking, "check", lambda args: seen.append(gc.isenabled()) or real_check(args))
    watched(authoring, "lsp", lambda args: seen.append(gc.isenabled()) or 0)
    spec = write(tmp_path, "spec.uapi", PRELUDE)
    assert cli.main(["check", str(spec), "--fail-on", "never", "-o", str(tmp_path / "out.txt")]) == 0
    assert cli.main(["lsp"]) == 0
    assert seen == [False, True]  # paused for the one-shot command; the language server lives on
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("env", "colored"),
    [
        ({"NO_COLOR": "", "FORCE_COLOR": "1"}, True),  # an empty NO_COLOR is as good as unset (no-color.org)
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        ({"FORCE_COLOR": "1"}, True),
        ({}, False),  # output to a pipe, not a terminal
    ],
    ids=["empty-no-color-is-unset", "no-color-wins", "force-color", "not-a-terminal"],
)
def test_colour_follows_no_color_and_force_color(tmp_path, env, colored) -> None:
    path = write(tmp_path, "s.uapi", "lock l : vm\nlock l : vm\n")
    result = run_cli("check", str(path), env=env)
    assert ("\x1b[" in result.stdout) == colored


def test_a_command_loads_only_its_own_module(tmp_path) -> None:
    """A JSON check imports neither the other commands, the C header reader, jinja2, hashlib
    (OpenSSL) nor the kernel transports (cold start); `--help` still lists every command."""
    probe = (
        "import sys; from validator.cli import main; "
        f"main(['check', {str(ROOT / 'spec/kvm')!r}, '--format', 'json', '-o', {str(tmp_path / 'c.json')!r}]); "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('validator', 'jinja2', 'pycparser', 'pcpp', 'hashlib'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path).stdout.split()
    assert "validator.commands.check" in loaded and json.loads((tmp_path / "c.json").read_text())["findings"]
    for unwanted in (
        "jinja2",
        "hashlib",
        "pycparser",
        "validator.commands.kernel",
        "validator.kernel.conform",
        "validator.commands.patch",
    ):
        assert unwanted not in loaded, unwanted
    listed = run_cli("--help").stdout
    assert all(name in listed for name in ("check-patch", "conform", "review", "lsp"))


def test_fingerprints_are_hashlib_sha256_without_hashlib() -> None:
    import hashlib

    from validator.model import findings

    for data in (b"", b"E101\0register/R\0a message", bytes(range(256)) * 5):
        assert findings.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()


def test_the_process_ends_with_every_byte_written(tmp_path) -> None:
    # `run` ends the process without the interpreter's teardown: what it printed and wrote
    # must be whole (standard output flushed, the -o file closed), the status main's.
    piped = run_cli("check", "spec", "--format", "sarif")
    written = run_cli("check", "spec", "--format", "sarif", "-o", str(tmp_path / "out.sarif"))
    assert piped.returncode == written.returncode == 1
    assert len(piped.stdout) > 100_000 and json.loads(piped.stdout)["runs"]
    assert (tmp_path / "out.sarif").read_text() == piped.stdout and written.stdout == ""


@pytest.mark.parametrize("columns", [None, "60", "200", "abc", "0", "-5"])
def test_help_is_laid_out_at_the_width_argparse_finds(monkeypatch, columns) -> None:
    """The CLI's formatter finds the width without shutil; argparse's own must agree."""
    import argparse

    from validator.cli import _Formatter

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _Formatter("prog")._width == argparse.HelpFormatter("prog")._width


def test_the_report_is_kept_to_the_end_only_where_the_process_ends_with_the_command(tmp_path) -> None:
    """cli.run asks for it (the process then ends without freeing the model); main does not."""
    from validator import cli
    from validator.commands import report_of

    spec = write(tmp_path, "spec.uapi", PRELUDE)
    args = cli._parsed(["check", str(spec)])
    report = report_of(args)
    assert not hasattr(args, "kept_until_exit")
    args.kept_until_exit = []
    assert report_of(args) == report and args.kept_until_exit == [report]
