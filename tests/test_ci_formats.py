"""SARIF and JUnit as their real readers take them: the OASIS SARIF 2.1.0 schema with what
GitHub code scanning needs (URIs from the repository root, per-file fingerprints, categories),
and Jenkins' junit-10.xsd; and the ruff-style command-line habits around them."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import JUNIT_SCHEMA, ROOT, SARIF_SCHEMA, run_cli, write

GOOD = """api "kvm/x86" version "6.12"
lock kvm_lock : vm
interface msrs : vcpu {
  get KVM_GET_ONE_REG
  set KVM_SET_ONE_REG
}
register MSR_A {
  id 0x2030_0002_0000_0001
  width 64
  scope vm
  via msrs
  lock kvm_lock
  migrate yes
  uniform last_wins
  writable always
}
"""


@pytest.fixture
def repo(tmp_path):
    """A git work tree with two specs in spec/ holding the same finding, one suppressed."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, "spec/a.uapi", GOOD)
    write(tmp_path, "spec/b.uapi", GOOD)
    suppressed = GOOD.replace(
        "register MSR_A {", "register MSR_A {  # allow: S201, S202 -- known, kept for the example"
    )
    write(tmp_path, "spec/c.uapi", suppressed)
    return tmp_path


def _sarif(*args: str, cwd) -> dict:
    result = run_cli("check", *args, "--format", "sarif", cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)
    if SARIF_SCHEMA.is_file():
        jsonschema = pytest.importorskip("jsonschema")
        jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(document)
    return document


def _uris(document: dict) -> set[str]:
    return {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]}


def test_sarif_uris_are_from_the_repository_root_wherever_the_command_runs(repo) -> None:
    for cwd, argument in ((repo / "spec", "."), (repo, "spec"), (repo / "spec", str(repo / "spec"))):
        document = _sarif(argument, cwd=cwd)
        run = document["runs"][0]
        assert _uris(document) == {"spec/a.uapi", "spec/b.uapi"}, (cwd, argument)
        assert all(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
            for r in run["results"]
        )
        assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    # Run from another repository, the files lie outside its root: absolute file URIs.
    document = _sarif(str(repo / "spec"), cwd=ROOT)
    assert _uris(document) == {(repo / "spec" / name).resolve().as_uri() for name in ("a.uapi", "b.uapi")}


def test_sarif_outside_any_repository_is_relative_to_the_current_folder(tmp_path) -> None:
    write(tmp_path, "work/spec/a.uapi", GOOD)
    if any((parent / ".git").exists() for parent in (tmp_path, *tmp_path.parents)):
        pytest.skip("the temporary folder is inside a git work tree")
    document = _sarif("spec", cwd=tmp_path / "work")
    assert _uris(document) == {"spec/a.uapi"}
    assert document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (tmp_path / "work").resolve().as_uri() + "/"


def test_sarif_fingerprints_differ_across_files_and_survive_moved_lines(repo) -> None:
    def prints(document: dict) -> dict[str, str]:
        return {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["partialFingerprints"][
                "uapiValidator/v2"
            ]
            for r in document["runs"][0]["results"]
        }

    before = prints(_sarif("spec", cwd=repo))
    assert len(set(before.values())) == 2  # the same finding in two files: two identities
    (repo / "spec/a.uapi").write_text("# a comment that moves every line down\n\n" + GOOD)
    after = prints(_sarif("spec", cwd=repo))
    assert after == before


def test_sarif_leaves_suppressed_findings_out_unless_asked_and_names_its_category(repo) -> None:
    document = _sarif("spec", cwd=repo)
    assert all("suppressions" not in r for r in document["runs"][0]["results"])
    assert "automationDetails" not in document["runs"][0]
    shown = _sarif("spec", "--show-suppressed", "--category", "kvm-x86", cwd=repo)
    suppressed = [r for r in shown["runs"][0]["results"] if "suppressions" in r]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in suppressed} == {"spec/c.uapi"}
    assert suppressed[0]["suppressions"][0]["justification"] == "known, kept for the example"
    assert shown["runs"][0]["automationDetails"] == {"id": "kvm-x86/"}


def _validated_junit(text: str) -> ET.Element:
    xmlschema = pytest.importorskip("xmlschema")
    if not JUNIT_SCHEMA.is_file():
        pytest.skip("../shared/data/junit-10.xsd is not beside the project")
    xmlschema.XMLSchema(str(JUNIT_SCHEMA)).validate(text)
    return ET.fromstring(text)


def test_junit_validates_against_jenkins_schema_and_shows_warnings(repo) -> None:
    result = run_cli("check", "spec", "--format", "junit", cwd=repo)
    root = _validated_junit(result.stdout)
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "spec/a.uapi")
    assert suite.get("errors") == "0" and suite.get("failures") == "0"
    s201 = next(c for c in suite.iter("testcase") if c.get("name").startswith("S201 "))
    assert s201.find("failure") is None and "warning: MSR_A is per-VM state" in s201.find("system-out").text
    # --fail-on warning makes the warning the case's failure.
    result = run_cli("check", "spec", "--format", "junit", "--fail-on", "warning", cwd=repo)
    suite = next(s for s in _validated_junit(result.stdout).iter("testsuite") if s.get("name") == "spec/a.uapi")
    assert suite.get("failures") == "2"  # S201 and S202 (serialized on kvm_lock)


def test_junit_does_not_pass_rules_that_did_not_run(repo) -> None:
    write(repo, "spec/broken.uapi", "register {\n")
    result = run_cli("check", "spec", "--format", "junit", cwd=repo)
    root = _validated_junit(result.stdout)
    broken = next(s for s in root.iter("testsuite") if s.get("name") == "spec/broken.uapi")
    cases = {c.get("name").split()[0]: c for c in broken.iter("testcase")}
    assert cases["E101"].find("failure") is not None
    hazards = [code for code in cases if code[0] in "SACLIX"]
    assert hazards and all(cases[code].find("skipped") is not None for code in hazards)
    assert "the spec has errors" in cases["S201"].find("skipped").get("message")
    # No baseline, no header: the B and H rules did not run anywhere.
    good = next(s for s in root.iter("testsuite") if s.get("name") == "spec/a.uapi")
    skipped = {c.get("name").split()[0] for c in good.iter("testcase") if c.find("skipped") is not None}
    assert {"B601", "H901", "K101"} <= skipped and "S201" not in skipped
    assert int(good.get("skipped")) == len(skipped)


def test_ruff_habits_select_ignore_statistics_quiet_exit_zero_and_stdin(repo) -> None:
    spec = repo / "spec" / "a.uapi"
    statistics = run_cli("check", str(spec), "--statistics", cwd=repo)
    assert statistics.stdout.splitlines()[:2] == ["1  S201  vm-state-on-vcpu-path", "1  S202  serialized-restore"]
    selected = run_cli("check", str(spec), "--select", "S201", "--format", "json", cwd=repo)
    assert [f["code"] for f in json.loads(selected.stdout)["findings"]] == ["S201"]
    ignored = run_cli("check", str(spec), "--ignore", "serialized-restore", "--output-format", "json", cwd=repo)
    assert [f["code"] for f in json.loads(ignored.stdout)["findings"]] == ["S201"]
    extended = run_cli("check", str(spec), "--select", "S201", "--extend-select", "S202", "--format", "json", cwd=repo)
    assert [f["code"] for f in json.loads(extended.stdout)["findings"]] == ["S201", "S202"]
    quiet = run_cli("check", str(spec), "-q", "--no-show-source", "--fail-on", "warning", "--exit-zero", cwd=repo)
    assert quiet.returncode == 0 and "in 1 file" not in quiet.stdout and " | " not in quiet.stdout
    assert quiet.stdout.count("warning[") == 2
    piped = subprocess.run(
        [*run_cli_prefix(), "check", "-", "--stdin-filename", "spec/piped.uapi", "--format", "json"],
        input=GOOD,
        capture_output=True,
        text=True,
        cwd=repo,
    )
    assert {f["path"] for f in json.loads(piped.stdout)["findings"]} == {"spec/piped.uapi"}
    bad = run_cli("check", str(spec), "--select", "nothing-like-this", cwd=repo)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1 and "nothing-like-this" in bad.stderr
    both = run_cli("check", "-", str(spec), cwd=repo)
    assert both.returncode == 2 and len(both.stderr.splitlines()) == 1


def run_cli_prefix() -> list[str]:
    import sys

    return [sys.executable, "-m", "validator"]


def test_force_color_colours_a_pipe_and_no_color_wins() -> None:
    spec = str(ROOT / "spec/kvm/x86/clocks.uapi")
    forced = run_cli("check", spec, env={"FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout
    both = run_cli("check", spec, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in both.stdout
    assert shutil.which("git")  # the repository fixtures above need it
