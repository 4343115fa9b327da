"""The pre-merge check tells the truth: a spec compared with itself, however it is moved,
re-laid or re-committed, has no changes and no new findings; a new file is an addition; a
baseline that does not load is an error; and the README's CI recipe works end to end."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES, ROOT, run_cli, write
from tests.test_simulate import specs as generated_specs
from validator.cli import argument_parser
from validator.commands import report_of
from validator.pipeline.engine import Report
from validator.tools.fmt import FormatError, format_text

SPEC_FILES = sorted(p for p in (ROOT / "spec").rglob("*.uapi"))
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.uapi")) if EXAMPLES.is_dir() else []
ALL_FILES = SPEC_FILES + EXAMPLE_FILES


def compared(base: Path | str, proposal: Path, command: str = "check") -> Report:
    """What `check PROPOSAL --baseline BASE` (or `diff BASE PROPOSAL`) reports, in process."""
    argv = (
        ["diff", str(base), str(proposal)] if command == "diff" else [command, str(proposal), "--baseline", str(base)]
    )
    return report_of(argument_parser().parse_args(argv))


def assert_nothing_new(report: Report) -> None:
    assert report.diffed
    assert [c.text for c in report.changes] == []
    assert [(f.code, f.message) for f in report.findings if not f.baseline] == []


def copy_folder(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


# -- variations that keep a spec's meaning ---------------------------------------------------


def with_comments_and_blank_lines(text: str, positions: list[int]) -> str:
    """Comment lines and blank lines inserted before lines that close a block or are blank:
    places where neither a directive's target nor a statement changes."""
    lines = text.split("\n")
    candidates = [i for i, line in enumerate(lines) if line.strip() in ("", "}") and i > 0]
    if not candidates:
        return text + "\n# a trailing comment\n"
    for n, position in enumerate(sorted({candidates[p % len(candidates)] for p in positions}, reverse=True)):
        lines[position:position] = ["# an added comment" if n % 2 else ""]
    return "\n".join(lines)


_ATTRIBUTE_LINE = re.compile(r"^  [a-z_]+ [^{}]*$")


def with_attributes_reordered(text: str) -> str:
    """Every register's one-line attributes in reverse order (blocks with a repeated keyword,
    where the first one counts, are left alone)."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        if not lines[i].startswith("register ") or not lines[i].rstrip().split("#")[0].endswith("{"):
            i += 1
            continue
        i += 1
        run: list[str] = []
        while i < len(lines) and _ATTRIBUTE_LINE.match(lines[i]):
            run.append(lines[i])
            i += 1
        keywords = [line.split()[0] for line in run]
        out.extend(reversed(run) if len(set(keywords)) == len(keywords) else run)
    return "\n".join(out)


def variants(path: Path, positions: list[int]) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    found = {
        "itself": text,
        "comments and blank lines": with_comments_and_blank_lines(text, positions),
        "attribute order": with_attributes_reordered(text),
    }
    with contextlib.suppress(FormatError):  # a file with a syntax error has no layout
        found["fmt"] = format_text(text, str(path))
    return found


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_spec_against_itself_at_another_path_has_nothing_new(path, tmp_path) -> None:
    copy = copy_folder(path.parent, tmp_path / "elsewhere" / "copy") / path.name
    for command in ("check", "diff"):
        assert_nothing_new(compared(path, copy, command))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(ALL_FILES),
    positions=st.lists(st.integers(0, 1000), min_size=1, max_size=6),
    kind=st.sampled_from(("itself", "comments and blank lines", "attribute order", "fmt")),
)
def test_a_spec_relaid_has_nothing_new(path, positions, kind, tmp_path_factory) -> None:
    text = variants(path, positions).get(kind)
    if text is None:
        return
    folder = copy_folder(path.parent, tmp_path_factory.mktemp("v") / "copy")
    (folder / path.name).write_text(text, encoding="utf-8")
    assert_nothing_new(compared(path, folder / path.name))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=generated_specs(), positions=st.lists(st.integers(0, 1000), min_size=1, max_size=4))
def test_generated_specs_relaid_have_nothing_new(text, positions, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("g")
    base = write(folder, "base/s.uapi", text + "scenario r : restore {\n  vcpus 1, 3\n}\n")
    for variant in (
        base.read_text(),
        with_comments_and_blank_lines(base.read_text(), positions),
        with_attributes_reordered(base.read_text()),
        format_text(base.read_text(), str(base)),
    ):
        proposal = write(folder, "proposal/s.uapi", variant)
        assert_nothing_new(compared(base, proposal))


# -- git revisions -----------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.fixture
def clone(tmp_path) -> Path:
    """A repository holding a copy of the bundled spec/, committed."""
    repo = tmp_path / "repo"
    copy_folder(ROOT / "spec", repo / "spec")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo


def test_the_bundled_spec_against_its_own_head_has_nothing_new(clone) -> None:
    report = compared("git:HEAD", clone / "spec")
    assert_nothing_new(report)
    # Every family is marked, header findings (H9xx, E111) and suppression findings included.
    assert {f.code for f in report.findings} >= {"H901", "H902", "E111", "X701", "E101"}
    result = run_cli("check", "spec", "--baseline", "git:HEAD", "--format", "sarif", cwd=clone)
    states = {r["ruleId"]: r["baselineState"] for r in json.loads(result.stdout)["runs"][0]["results"]}
    assert set(states.values()) == {"unchanged"} and result.returncode == 0


def test_diff_check_and_review_agree(clone) -> None:
    spec = clone / "spec/kvm/arm64/firmware.uapi"
    spec.write_text(spec.read_text().replace("reserved reject EINVAL", "reserved ignore", 1))
    write(clone, "spec/kvm/arm64/new.uapi", NEW_UNIT)
    by_diff = run_cli("diff", "git:HEAD", "spec", "--format", "json", cwd=clone)
    by_check = run_cli("check", "spec", "--baseline", "git:HEAD", "--format", "json", cwd=clone)
    review = run_cli("review", "spec", "--baseline", "git:HEAD", cwd=clone)
    diff_doc, check_doc = json.loads(by_diff.stdout), json.loads(by_check.stdout)
    assert diff_doc["changes"] == check_doc["changes"]
    # diff reports what the change breaks; check reports that and the proposal's new hazards.
    new_in_check = {(f["code"], f["subject"]) for f in check_doc["findings"] if not f["baseline"]}
    in_diff = {(f["code"], f["subject"]) for f in diff_doc["findings"]}
    assert in_diff == {("B609", "register/KVM_REG_ARM_STD_BMAP"), ("C504", "register/KVM_REG_ARM_NEW_STATE")}
    assert new_in_check == in_diff | {("C502", "register/KVM_REG_ARM_STD_BMAP")}
    for change in check_doc["changes"]:
        assert f"`{change['text']}`" in review.stdout
    assert by_diff.returncode == by_check.returncode == review.returncode == 1


NEW_UNIT = """include "common.uapi"

interface vm_new : vm {
  get KVM_GET_DEVICE_ATTR
  set KVM_SET_DEVICE_ATTR
  has KVM_HAS_DEVICE_ATTR
}

register KVM_REG_ARM_NEW_STATE {
  scope    vm
  via      vm_new
  migrate  yes
  writable always
  since    "6.1"
}
"""


def test_a_new_unit_is_added_symmetric_with_removal(clone) -> None:
    write(clone, "spec/kvm/arm64/new.uapi", NEW_UNIT)
    added = json.loads(run_cli("check", "spec", "--baseline", "git:HEAD", "--format", "json", cwd=clone).stdout)
    assert sorted(c["text"] for c in added["changes"]) == [
        "interface vm_new added",
        "register KVM_REG_ARM_NEW_STATE added",
    ]
    assert [(f["code"], f["subject"]) for f in added["findings"] if not f["baseline"]] == [
        ("C504", "register/KVM_REG_ARM_NEW_STATE")
    ]
    # The same file as a single path that the revision does not have: a new file, with a note.
    single = json.loads(run_cli("diff", "git:HEAD", "spec/kvm/arm64/new.uapi", "--format", "json", cwd=clone).stdout)
    assert single["changes"] == added["changes"]
    assert single["notes"] == [
        "spec/kvm/arm64/new.uapi: not in git revision HEAD; compared with an empty baseline (a new file)"
    ]
    # Committed, then removed: the mirror image.
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "new")
    (clone / "spec/kvm/arm64/new.uapi").unlink()
    removed = json.loads(run_cli("check", "spec", "--baseline", "git:HEAD", "--format", "json", cwd=clone).stdout)
    assert sorted(c["text"] for c in removed["changes"]) == [
        "interface vm_new removed",
        "register KVM_REG_ARM_NEW_STATE removed",
    ]
    assert sorted(f["code"] for f in removed["findings"] if not f["baseline"]) == ["B601", "B601"]


def test_a_new_file_in_a_baseline_folder_is_added(tmp_path) -> None:
    base = copy_folder(ROOT / "spec/kvm/arm64", tmp_path / "base")
    proposal = copy_folder(ROOT / "spec/kvm/arm64", tmp_path / "proposal")
    write(proposal, "new.uapi", NEW_UNIT)
    report = compared(base, proposal, "diff")
    assert sorted(c.text for c in report.changes) == ["interface vm_new added", "register KVM_REG_ARM_NEW_STATE added"]
    assert [f.code for f in report.findings] == ["C504"]


def test_a_baseline_that_does_not_load_is_an_error(tmp_path) -> None:
    base = write(tmp_path, "base.uapi", "register R {\n  scope vcpu\n  widht 64\n}\n")
    proposal = write(tmp_path, "proposal.uapi", "lock l : vm\n")
    for argv in (("diff", str(base), str(proposal)), ("check", str(proposal), "--baseline", str(base))):
        result = run_cli(*argv)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr == (
            f"uapi-validator: error: the baseline does not load, so nothing can be compared with it: {base}:3:3: "
            'unexpected \'widht\'; expected one of "bits", "doc", "encoding", "hint", "id", "lock", '
            '"migrate", "opt_in", "reserved", "reset", "rewrite", "scope", "since", "uniform", "via", '
            '"width", "writable", "}"\n'
        )


def test_the_readme_github_actions_recipe(tmp_path) -> None:
    """The README's recipe, run as a CI job runs it: a branch against its merge base."""
    readme = (ROOT / "README.md").read_text()
    recipe = re.search(
        r"base=\$\(git merge-base origin/\$\{\{ github.base_ref \}\} HEAD\)\n(.*?)\n- uses", readme, re.S
    )
    assert recipe, "the README's GitHub Actions recipe moved"
    command = " ".join(recipe.group(1).replace("\\\n", " ").split())
    assert command == (
        'uapi-validator check spec/ --baseline "git:$base" --format github --output-format sarif=uapi.sarif'
    )
    origin = tmp_path / "origin"
    copy_folder(ROOT / "spec/kvm", origin / "spec/kvm")
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "base")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True)
    git(work, "checkout", "-q", "-b", "topic")

    def job() -> tuple[subprocess.CompletedProcess[str], dict]:
        base = git(work, "merge-base", "origin/main", "HEAD").strip()
        result = run_cli(*_split(command.replace("$base", base)), cwd=work)
        sarif = json.loads((work / "uapi.sarif").read_text())
        return result, sarif

    unchanged, sarif = job()
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    assert [r for r in sarif["runs"][0]["results"] if r["baselineState"] == "new"] == []
    # A branch that adds a file and breaks one register.
    firmware = work / "spec/kvm/arm64/firmware.uapi"
    firmware.write_text(firmware.read_text().replace("0x6030_0000_0014_0002", "0x6030_0000_0014_0009", 1))
    write(work, "spec/kvm/arm64/new.uapi", NEW_UNIT)
    git(work, "add", "-A")
    git(work, "commit", "-qm", "topic")
    broken, sarif = job()
    assert broken.returncode == 1
    new = [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in sarif["runs"][0]["results"]
        if r["baselineState"] == "new"
    ]
    assert sorted(new) == [("B602", "spec/kvm/arm64/firmware.uapi"), ("C504", "spec/kvm/arm64/new.uapi")]
    annotations = [line for line in broken.stdout.splitlines() if line.startswith("::error")]
    assert len(annotations) == 1 and "B602" in annotations[0]
    report = json.loads(run_cli("check", "spec/", "--baseline", "git:HEAD~1", "--format", "json", cwd=work).stdout)
    assert sorted(c["text"] for c in report["changes"]) == [
        "interface vm_new added",
        "register KVM_REG_ARM_NEW_STATE added",
        "register KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2: id 0x6030000000140002 -> 0x6030000000140009",
    ]


def _split(command: str) -> list[str]:
    import shlex

    words = shlex.split(command)
    assert words[0] == "uapi-validator"
    return words[1:]


# -- what the tool writes, and what it reads ----------------------------------------------------


def test_written_files_keep_their_mode_and_new_ones_follow_the_umask(tmp_path) -> None:
    spec = write(tmp_path, "s.uapi", "lock   l : vm\n")
    spec.chmod(0o644)
    kept = write(tmp_path, "kept.sarif", "old")
    kept.chmod(0o640)
    result = run_cli("check", str(spec), "-o", str(tmp_path / "new.txt"), "--output-format", f"sarif={kept}")
    assert result.returncode == 0
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644  # the tests run under umask 022
    assert kept.stat().st_mode & 0o777 == 0o640 and kept.read_text().startswith("{")
    assert run_cli("fmt", str(spec)).returncode == 0
    assert spec.stat().st_mode & 0o777 == 0o644 and spec.read_text() == "lock l : vm\n"


def test_fmt_through_a_link_rewrites_the_target_and_keeps_the_link(tmp_path) -> None:
    target = write(tmp_path, "real/t.uapi", "lock   l : vm\n")
    link = tmp_path / "real" / "link.uapi"
    link.symlink_to("t.uapi")
    assert run_cli("fmt", str(link)).returncode == 0
    assert link.is_symlink() and target.read_text() == "lock l : vm\n"


@pytest.mark.parametrize("target", ["input", "fifo", "read-only", "folder"])
def test_outputs_never_replace_what_they_must_not(tmp_path, target) -> None:
    import os

    spec = write(tmp_path, "s.uapi", "lock l : vm\n")
    destination = {"input": spec, "fifo": tmp_path / "fifo", "read-only": tmp_path / "ro.txt", "folder": tmp_path}[
        target
    ]
    if target == "fifo":
        os.mkfifo(destination)
    if target == "read-only":
        destination.write_text("keep")
        destination.chmod(0o444)
    for argv in (["-o", str(destination)], ["--output-format", f"sarif={destination}"]):
        result = run_cli("check", str(spec), *argv)
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert spec.read_text() == "lock l : vm\n"
    if target == "read-only":
        assert destination.read_text() == "keep"
    if target == "fifo":
        assert destination.is_fifo()


def test_an_unreadable_file_is_exit_2_naming_it(tmp_path, monkeypatch, capsys) -> None:
    from validator import cli
    from validator.frontend.sources import LocalFiles

    spec = write(tmp_path, "s.uapi", "lock l : vm\n")

    def failing(self, path: str) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(LocalFiles, "read_bytes", failing)
    assert cli.main(["check", str(spec)]) == 2
    assert capsys.readouterr().err == f"uapi-validator: error: {spec}: cannot read the file: Input/output error\n"


def test_crosscheck_reports_header_findings_only(tmp_path) -> None:
    arm64 = "/usr/aarch64-linux-gnu/include"
    if not Path(arm64, "linux", "kvm.h").is_file():
        pytest.skip(f"{arm64}/linux/kvm.h is not installed (linux-libc-dev-arm64-cross)")
    arguments = ["--header", "<linux/kvm.h>", "-I", arm64, "--format", "json"]
    result = run_cli("crosscheck", str(ROOT / "spec/kvm/arm64"), *arguments)
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert codes and all(c.startswith("H") or c in ("E111", "E112", "E113") for c in codes)
    # The bundled spec's failing scenarios (X701, X702) are check's, so crosscheck passes.
    assert result.returncode == 0
    checked = run_cli("check", str(ROOT / "spec/kvm"), "--format", "json")  # still runs everything
    assert checked.returncode == 1
    assert {"X701", "X702", "S202"} <= {f["code"] for f in json.loads(checked.stdout)["findings"]}


@pytest.mark.parametrize(
    "pyproject",
    ['tool = "uapi-validator"\n', "[tool]\nuapi-validator = 5\n", "x = " + "[" * 2000 + "]" * 2000 + "\n"],
    ids=["tool-a-string", "table-a-number", "nested-deeply"],
)
def test_a_strange_configuration_is_one_line_not_a_crash(tmp_path, pyproject) -> None:
    write(tmp_path, "pyproject.toml", pyproject)
    spec = write(tmp_path, "s.uapi", "lock l : vm\n")
    result = run_cli("check", str(spec))
    assert result.returncode in (0, 2) and "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.splitlines()) <= 1
