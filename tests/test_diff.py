"""Diff mode and the pre-merge check: against a file, a folder or a git revision; CI formats."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT, SARIF_SCHEMA, check_files, run_cli, write
from validator.diff.compare import Change
from validator.model.words import describe

BASE = """api "kvm/arm64" version "6.1"

lock config_lock : vm

interface one_reg : vcpu {
  get  KVM_GET_ONE_REG
  set  KVM_SET_ONE_REG
  list KVM_GET_REG_LIST
}

register KVM_REG_SHARED {
  id       0x6030_0000_0016_0000
  width    64
  scope    vm
  via      one_reg
  lock     config_lock
  migrate  yes
  writable before first_run else EBUSY
  rewrite  same_value ok
  uniform  last_wins
  reset    all
  reserved reject EINVAL
  bits {
    0 A
    1 B
  }
}

register KVM_REG_OLD_NAME {
  id       0x6030_0000_0010_0001
  width    64
  scope    vcpu
  via      one_reg
  migrate  yes
  writable always
}

register KVM_REG_GONE {
  id       0x6030_0000_0010_0002
  width    64
  scope    vcpu
  via      one_reg
  migrate  yes
  writable always
}
"""


def proposal() -> str:
    """The baseline with: a bit removed, a rename, a removal, an errno change, a deadline moved."""
    text = BASE.replace('version "6.1"', 'version "6.2"')
    text = text.replace("    1 B\n", "")
    text = text.replace("KVM_REG_OLD_NAME", "KVM_REG_NEW_NAME")
    text = text.split("register KVM_REG_GONE")[0].rstrip() + "\n"
    text = text.replace("writable before first_run else EBUSY", "writable before vcpu_init else EPERM")
    return "\n\n" + text  # lines move: fingerprints must not care


def git(repo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    write(tmp_path, "spec/arm.uapi", BASE)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "baseline")
    write(tmp_path, "spec/arm.uapi", proposal())
    return tmp_path


def findings_of(result) -> list[dict]:
    return json.loads(result.stdout)["findings"]


def test_git_baseline_reports_exactly_the_introduced_breaks(repo) -> None:
    before = (repo / "spec/arm.uapi").read_text()
    result = run_cli("check", str(repo / "spec/arm.uapi"), "--baseline", "git:HEAD", "--format", "json")
    assert result.returncode == 1, result.stderr
    found = findings_of(result)
    new = sorted((f["code"], f["subject"]) for f in found if not f["baseline"])
    assert new == [
        ("B601", "register/KVM_REG_GONE"),
        ("B601", "register/KVM_REG_SHARED/bits/1"),
        ("B606", "register/KVM_REG_SHARED"),
        ("B608", "register/KVM_REG_SHARED"),
    ]
    # The standing hazards of the shared register are the baseline's, not the patch's.
    assert {(f["code"], f["baseline"]) for f in found if f["code"] in ("S201", "S202")} == {
        ("S201", True),
        ("S202", True),
    }
    gone = next(f for f in found if f["subject"] == "register/KVM_REG_GONE")
    assert (gone["path"], gone["line"]) == (str(repo / "spec/arm.uapi"), 3)  # the proposal's api line
    assert gone["related"][0]["path"] == "HEAD:spec/arm.uapi"
    # Nothing in the working tree changed, and git still sees only the proposal's edit.
    assert (repo / "spec/arm.uapi").read_text() == before
    assert git(repo, "status", "--porcelain").strip() == "M spec/arm.uapi"


def test_changes_summary_records_before_and_after(repo) -> None:
    result = run_cli("check", str(repo / "spec"), "--baseline", "git:HEAD", "--format", "json")
    changes = json.loads(result.stdout)["changes"]
    assert {
        "kind": "renamed",
        "subject": "register/KVM_REG_NEW_NAME",
        "attribute": "name",
        "before": "KVM_REG_OLD_NAME",
        "after": "KVM_REG_NEW_NAME",
        "text": "register KVM_REG_NEW_NAME: renamed from KVM_REG_OLD_NAME",
    } in changes
    assert {
        "kind": "changed",
        "subject": "register/KVM_REG_SHARED",
        "attribute": "writable",
        "before": "before first_run else EBUSY",
        "after": "before vcpu_init else EPERM",
        "text": "register KVM_REG_SHARED: writable before first_run else EBUSY -> before vcpu_init else EPERM",
    } in changes
    assert {"kind": "removed", "subject": "register/KVM_REG_GONE", "text": "register KVM_REG_GONE removed"} in changes
    assert {
        "kind": "removed",
        "subject": "register/KVM_REG_SHARED",
        "attribute": "bit",
        "before": "1 B",
        "after": "",
        "text": "register KVM_REG_SHARED: bit 1 B removed",
    } in changes
    assert not any(c["kind"] == "added" for c in changes)  # the rename is not an addition
    # Values only: no position, path or Python repr ever reaches a change.
    assert not any("Span(" in c["text"] or "HEAD:" in c["text"] for c in changes)


def test_file_baseline_and_diff_command(repo, tmp_path) -> None:
    base = write(tmp_path, "base.uapi", BASE)
    check = run_cli("check", str(repo / "spec/arm.uapi"), "--baseline", str(base), "--format", "json")
    diff = run_cli("diff", str(base), str(repo / "spec/arm.uapi"), "--format", "json")
    assert diff.returncode == 1
    assert sorted(f["code"] for f in findings_of(diff)) == ["B601", "B601", "B606", "B608"]
    assert {f["code"] for f in findings_of(check)} >= {"B601", "S201", "S202"}
    text = run_cli("diff", str(base), str(repo / "spec/arm.uapi"), "--color", "never").stdout
    assert "Changes against the baseline" in text and "register KVM_REG_NEW_NAME: renamed from KVM_REG_OLD_NAME" in text


def test_new_only_and_all_decide_the_exit_status(tmp_path) -> None:
    base = write(tmp_path, "base.uapi", BASE)
    same = write(tmp_path, "same.uapi", BASE.replace("writable always", 'writable always\n  doc "x"', 1))
    args = ("check", str(same), "--baseline", str(base), "--fail-on", "warning")
    assert run_cli(*args).returncode == 0  # S201/S202 are the baseline's
    assert run_cli(*args, "--all").returncode == 1
    assert run_cli(*args, "--new-only").returncode == 0


def test_a_removed_file_is_reported(tmp_path) -> None:
    write(tmp_path, "old/a.uapi", BASE)
    write(tmp_path, "old/b.uapi", 'api "x" version "1"\nfeature F {\n  via vcpu_init\n}\n')
    write(tmp_path, "new/a.uapi", BASE)
    result = run_cli("diff", str(tmp_path / "old"), str(tmp_path / "new"), "--format", "json")
    [gone] = findings_of(result)
    assert (gone["code"], gone["subject"], gone["path"]) == ("B601", "feature/F", str(tmp_path / "old/b.uapi"))


@pytest.mark.parametrize(
    ("baseline", "message"),
    [("git:no-such-rev", "no such revision"), ("git:", "needs a revision")],
)
def test_unreadable_git_revision_is_exit_2(repo, baseline, message) -> None:
    result = run_cli("check", str(repo / "spec/arm.uapi"), "--baseline", baseline)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_path_missing_at_the_revision_is_a_new_file(repo) -> None:
    write(repo, "spec/new.uapi", "lock l : vm\n")
    result = run_cli("check", str(repo / "spec/new.uapi"), "--baseline", "git:HEAD", "--format", "json")
    document = json.loads(result.stdout)
    assert result.returncode == 0
    assert [c["text"] for c in document["changes"]] == ["lock l added"]
    assert document["notes"] == [
        f"{repo / 'spec/new.uapi'}: not in git revision HEAD; compared with an empty baseline (a new file)"
    ]


def test_path_missing_in_both_places_is_exit_2(repo) -> None:
    result = run_cli("check", str(repo / "spec/none.uapi"), "--baseline", "git:HEAD")
    assert result.returncode == 2 and "no such file or folder" in result.stderr


def test_outside_a_repository_is_exit_2(tmp_path) -> None:
    path = write(tmp_path, "x.uapi", "lock l : vm\n")
    result = run_cli("check", str(path), "--baseline", "git:HEAD")
    assert result.returncode == 2 and "not inside a git repository" in result.stderr


def test_missing_baseline_directive_file_is_e102(tmp_path) -> None:
    path = write(tmp_path, "p.uapi", "# baseline: nowhere.uapi\nlock l : vm\n")
    document = json.loads(run_cli("check", str(path), "--format", "json").stdout)
    assert [(f["code"], f["line"]) for f in document["findings"]] == [("E102", 1)]


def test_fingerprints_survive_moved_lines(repo, tmp_path) -> None:
    one = write(tmp_path, "one.uapi", BASE)
    two = write(tmp_path, "two.uapi", "\n\n\n" + BASE)
    prints = [
        {(f["code"], f["fingerprint"]) for f in findings_of(run_cli("check", str(p), "--format", "json"))}
        for p in (one, two)
    ]
    assert prints[0] == prints[1] and prints[0]


def test_sarif_validates_against_the_schema(repo) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not SARIF_SCHEMA.is_file():
        pytest.skip("../shared/data/sarif-schema-2.1.0.json is not beside the project")
    result = run_cli("check", str(repo / "spec/arm.uapi"), "--baseline", "git:HEAD", "--format", "sarif")
    document = json.loads(result.stdout)
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(document)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][:3] == ["E101", "E102", "E103"]
    assert all(
        r["shortDescription"]["text"] and r["help"]["text"] and r["defaultConfiguration"]["level"] for r in rules
    )
    gone = next(r for r in run["results"] if r["ruleId"] == "B601" and "KVM_REG_GONE" in r["message"]["text"])
    related = gone["relatedLocations"][0]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "spec/arm.uapi"  # the file in the repository
    assert related["message"]["text"].endswith("(at git revision HEAD)")
    assert gone["partialFingerprints"]["uapiValidator/v2"] and gone["baselineState"] == "new"
    assert {r["baselineState"] for r in run["results"] if r["ruleId"] == "S201"} == {"unchanged"}


def test_github_annotations(tmp_path) -> None:
    path = write(tmp_path, "a,b.uapi", "lock l : vm\nlock l : vm\n")
    lines = run_cli("check", str(path), "--format", "github").stdout.splitlines()
    assert lines == [
        f"::error file={str(path).replace(',', '%2C')},line=2,col=1,endLine=2,endColumn=7,"
        "title=E103 duplicate-name::lock l is already declared as a lock (fix: remove or rename one of the declarations)"
    ]


def test_junit_one_case_per_rule_and_file_with_failures_at_the_fail_level(repo) -> None:
    from validator.rules import CATALOG

    result = run_cli("check", str(repo / "spec/arm.uapi"), "--baseline", "git:HEAD", "--format", "junit")
    root = ET.fromstring(result.stdout)
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(CATALOG)
    failed = sorted(c.get("name").split()[0] for c in cases if c.find("failure") is not None)
    assert failed == ["B601", "B606", "B608"]  # errors only; S201/S202 are warnings


def test_several_outputs_in_one_run(repo, tmp_path) -> None:
    sarif, junit = tmp_path / "out.sarif", tmp_path / "out.xml"
    result = run_cli(
        "check",
        str(repo / "spec/arm.uapi"),
        "--baseline",
        "git:HEAD",
        "--color",
        "never",
        "--output-format",
        f"sarif={sarif}",
        "--output-format",
        f"junit={junit}",
    )
    assert result.stdout.splitlines()[-1].startswith(f"{repo / 'spec/arm.uapi'}: 4 errors, 2 warnings in 1 file")
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    assert ET.fromstring(junit.read_text()).tag == "testsuites"


def test_bad_output_format_flag_is_exit_2(tmp_path) -> None:
    path = write(tmp_path, "x.uapi", "lock l : vm\n")
    result = run_cli("check", str(path), "--output-format", "yaml=x.yaml")
    assert result.returncode == 2 and "FORMAT=FILE" in result.stderr


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (Change("added", "register/R"), "register R added"),
        (Change("removed", "feature/F"), "feature F removed"),
        (Change("renamed", "register/NEW", "name", "OLD", "NEW"), "register NEW: renamed from OLD"),
        (Change("added", "register/R", "via", "", "vm_attr"), "register R: via vm_attr added"),
        (Change("changed", "register/R", "hint", "", "KVM_CAP_X"), "register R: hint KVM_CAP_X added"),
        (Change("removed", "interface/i", "get", "KVM_GET_ONE_REG", ""), "interface i: get KVM_GET_ONE_REG removed"),
        (Change("changed", "register/R", "since", '"5.0"', ""), 'register R: since "5.0" removed'),
        (Change("changed", "register/R", "width", "32", "64"), "register R: width 32 -> 64"),
    ],
)
def test_a_change_reads_in_the_languages_words(change, text) -> None:
    assert change.text == text


def test_every_value_has_its_language_form_and_nothing_else_has_one() -> None:
    from validator.model import spec as m
    from validator.model.spans import Span

    at = Span.point("s.uapi", 1, 1)
    errno = m.Name("EBUSY", at)
    cases = [
        (None, "(none)"),
        (True, "yes"),
        (300, "0x12c"),
        ((), "(none)"),
        ((m.Name("a", at), m.Name("b", at)), "a, b"),
        (m.Writable("before", at, "first_run", errno), "before first_run else EBUSY"),
        (m.Writable("never", at), "never"),
        (m.Rewrite(at, None), "same_value ok"),
        (m.Uniform("enforced", at, errno=errno, basis="contract"), "enforced EBUSY as contract"),
        (m.Uniform("none", at, opt_in=m.Name("KVM_CAP_X", at)), "none opt_in KVM_CAP_X"),
        (m.Reset("value", at, 3), "3"),
        (m.Reset("all", at), "all"),
        (m.Reserved("reject", at, errno), "reject EBUSY"),
        (m.Reserved("ignore", at), "ignore"),
        (m.Bit(2, "B", at, "6.1"), '2 B since "6.1"'),
    ]
    assert [describe(value) for value, _ in cases] == [text for _, text in cases]
    with pytest.raises(TypeError, match="no language form for Span"):
        describe(at)


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [
        ("#define A 1\n", "/* a comment */\n#define   A\t1 // why\n", True),
        ("#define A 1\n", "#define A \\\n  1\n", True),
        ("#define A 1\n", "#define A 2\n", False),
        ("enum { X = 0, };\n", "enum { X = 0, Y = 1, };\n", False),
        ('#define S "/* not a comment */"\n', '#define S "/* not  a comment */"\n', False),
        ("struct s { int a; };\n", "struct s {\n\tint a; /* the a */\n};\n", True),
    ],
)
def test_a_header_changes_for_h909_only_where_the_compiler_would_see_it(before, after, same) -> None:
    from validator.diff.headers import header_tokens

    assert (header_tokens(before.encode()) == header_tokens(after.encode())) is same


def _with_baselines() -> list[Path]:
    examples = sorted(ROOT.glob("spec/rules/*/*.uapi")) + sorted(ROOT.glob("spec/kvm/*/history/*.uapi"))
    return [p for p in examples if p.read_text().startswith("# baseline:")]


@pytest.mark.parametrize("path", _with_baselines(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_baseline_judged_only_for_the_proposals_codes_marks_exactly_what_a_full_check_marks(
    path, monkeypatch
) -> None:
    """Diff mode runs the baseline's rules only for the codes the proposal has (and its
    `# allow:` lines name): the report must be the one a full check of the baseline gives."""
    from validator.pipeline import engine
    from validator.rules import BY_CODE

    quick = check_files(path)
    monkeypatch.setattr(engine, "_allowed_codes", lambda unit: set(BY_CODE))  # every rule on the baseline
    full = check_files(path)
    assert quick.findings == full.findings and quick.changes == full.changes
