"""`check-patch` on real patch fixtures (tests/data/patches), applied in memory to a small
kernel-like repository (tests/patchrepo.py): checkpatch lines, the email reply and the JSON
for patchwork, each compared with its expected file (`UAPI_UPDATE_GOLDEN=1` rewrites them)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import run_cli
from tests.patchrepo import PATCHES, git, make_repository

FIXTURES = ("series-register.mbox", "struct-insert.patch", "no-uapi.patch", "header-unspecified.mbox")
FORMATS = {"checkpatch": "checkpatch", "email": "eml", "json": "json"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return make_repository(tmp_path_factory.mktemp("kernel"))


def _state(repo) -> tuple[str, str, str]:
    return git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"), git(repo, "ls-files", "-s")


@pytest.mark.parametrize("fixture", FIXTURES)
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_fixture_gives_its_expected_output_and_leaves_the_tree_alone(repo, fixture, fmt) -> None:
    before = _state(repo)
    result = run_cli("check-patch", str(PATCHES / fixture), "--format", fmt, cwd=repo)
    assert result.returncode in (0, 1) and not result.stderr, result.stderr
    expected = PATCHES / f"{fixture.rsplit('.', 1)[0]}.{FORMATS[fmt]}"
    if os.environ.get("UAPI_UPDATE_GOLDEN"):
        expected.write_text(result.stdout)
    assert result.stdout == expected.read_text()
    assert _state(repo) == before  # no commit, no index entry, no file of the work tree changed


def test_a_struct_field_inserted_in_the_middle_is_caught_from_the_header_alone(repo) -> None:
    result = run_cli("check-patch", str(PATCHES / "struct-insert.patch"), "--format", "json", cwd=repo)
    assert result.returncode == 1
    [patch] = json.loads(result.stdout)["patches"]
    found = {(f["code"], f["path"], f["patch_line"]) for f in patch["findings"]}
    # B610 at the added line of the diff; the ioctl's new number where the header declares it.
    assert ("B610", "include/uapi/linux/kvm.h", 19) in found
    assert {f["code"] for f in patch["findings"]} >= {"B610", "B611", "I102"}
    assert patch["state"] == "fail" and patch["context"] == "uapi-validator"


def test_the_series_judges_each_patch_on_top_of_the_ones_before(repo) -> None:
    text = (PATCHES / "series-register.mbox").read_text()
    piped = subprocess.run(
        [sys.executable, "-m", "validator", "check-patch", "-", "--format", "json"],
        input=text,
        capture_output=True,
        text=True,
        cwd=repo,
    )
    patches = json.loads(piped.stdout)["patches"]
    assert [p["state"] for p in patches] == ["success", "warning"]
    assert {f["code"] for f in patches[1]["findings"]} == {"S201", "S202"}  # the seed's design flaw
    # The spec's include of common.uapi is read from the series' own tree.
    assert all(f["path"] == "spec/kvm/arm64/new-svc.uapi" for f in patches[1]["findings"])


def test_the_email_reply_quotes_the_patch_and_answers_the_patch_that_introduced_each_finding(repo) -> None:
    result = run_cli("check-patch", str(PATCHES / "series-register.mbox"), "--format", "email", cwd=repo)
    reply = result.stdout
    assert reply.startswith("Subject: Re: [PATCH 2/2] KVM: arm64: Describe the NEW_SVC bitmap")
    assert "In-Reply-To: <b00911c4e962b15b98e5aee5c18344cb2bb12a5e" in reply
    assert "> +register KVM_REG_ARM_NEW_SVC_BMAP {\n\nS201 vm-state-on-vcpu-path" in reply
    assert "[PATCH 1/2]" not in reply  # patch 1 has nothing to answer
    assert all(
        len(line) <= 72
        for line in reply.splitlines()
        if not line.startswith(("> ", "Subject:", "In-Reply-To:", "References:", "On "))
    )


@pytest.mark.parametrize(
    "patch, message",
    [
        ("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", "does not apply"),
        ("Subject: nothing\n\njust words\n", "no unified diff found"),
    ],
)
def test_a_patch_that_does_not_apply_is_one_line_and_exit_2(repo, tmp_path, patch, message) -> None:
    path = tmp_path / "bad.patch"
    path.write_text(patch)
    result = run_cli("check-patch", str(path), cwd=repo)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and message in result.stderr


def test_an_unknown_base_commit_is_named(repo, tmp_path) -> None:
    text = re.sub(r"base-commit: [0-9a-f]{40}", "base-commit: " + "0" * 40, (PATCHES / "no-uapi.patch").read_text())
    path = tmp_path / "rebased.patch"
    path.write_text(text)
    result = run_cli("check-patch", str(path), cwd=repo)
    assert result.returncode == 2 and "no such commit" in result.stderr


def test_outside_a_git_repository_is_one_line(tmp_path) -> None:
    if any((parent / ".git").exists() for parent in (tmp_path, *tmp_path.parents)):
        pytest.skip("the temporary folder is inside a git work tree")
    result = run_cli("check-patch", str(PATCHES / "no-uapi.patch"), cwd=tmp_path)
    assert result.returncode == 2 and "not inside a git repository" in result.stderr


B4 = shutil.which("b4")


@pytest.mark.skipif(B4 is None, reason="b4 is not installed (pip install '.[test]' installs it from PyPI)")
def test_b4_prep_check_shows_our_lines_for_each_patch(tmp_path) -> None:
    work = make_repository(tmp_path / "kernel")
    git(work, "config", "user.name", "A Developer")
    git(work, "config", "user.email", "dev@example.org")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "HOME": str(tmp_path)}
    subprocess.run([B4, "prep", "-n", "priority", "-f", "master"], cwd=work, env=env, check=True, capture_output=True)
    git(work, "am", "-q", str(PATCHES / "struct-insert.patch"))
    # The README's one line of configuration.
    git(work, "config", "b4.prep-perpatch-check-cmd", f"{sys.executable} -m validator check-patch -")
    checked = subprocess.run([B4, "prep", "--check"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    output = checked.stdout + checked.stderr
    assert "ERROR: B610 layout-changed: kvm_userspace_memory_region2" in output, output[-3000:]
    assert "#19: FILE: include/uapi/linux/kvm.h:42:" in output or "FILE: include/uapi/linux/kvm.h:42:" in output


def test_a_renumbered_and_a_reused_capability_number_are_caught_from_the_header(tmp_path) -> None:
    work = make_repository(tmp_path / "kernel")
    header = work / "include/uapi/linux/kvm.h"
    text = header.read_text()
    changed = re.sub(r"#define KVM_CAP_SPLIT_IRQCHIP\s+121", "#define KVM_CAP_SPLIT_IRQCHIP 250", text)
    changed = changed.replace(
        "#define KVM_CAP_IMMEDIATE_EXIT", "#define KVM_CAP_SHINY_NEW 136\n#define KVM_CAP_IMMEDIATE_EXIT"
    )
    assert changed.count("250") >= 1 and "KVM_CAP_SHINY_NEW" in changed
    header.write_text(changed)
    diff = git(work, "diff")
    git(work, "checkout", "--", ".")
    patch = tmp_path / "caps.diff"
    patch.write_text(diff)
    result = run_cli("check-patch", str(patch), "--format", "json", cwd=work)
    findings = json.loads(result.stdout)["patches"][0]["findings"]
    codes = {(f["code"], f["message"].split()[0]) for f in findings}
    assert ("B614", "KVM_CAP_SPLIT_IRQCHIP") in codes
    assert any(code == "I116" and "KVM_CAP_SHINY_NEW" in f["message"] for f in findings for code in [f["code"]])
    assert result.returncode == 1


def test_a_changed_register_id_is_caught_at_its_macro(tmp_path) -> None:
    work = make_repository(tmp_path / "kernel")
    header = work / "arch/arm64/include/uapi/asm/kvm.h"
    text = header.read_text()
    old = "#define KVM_REG_ARM_VENDOR_HYP_BMAP\t\tKVM_REG_ARM_FW_FEAT_BMAP_REG(2)"
    header.write_text(text.replace(old, old.replace("(2)", "(5)")))
    patch = tmp_path / "id.diff"
    patch.write_text(git(work, "diff"))
    git(work, "checkout", "--", ".")
    result = run_cli("check-patch", str(patch), cwd=work)
    assert result.returncode == 1
    assert result.stdout.startswith("ERROR: B602 id-changed: KVM_REG_ARM_VENDOR_HYP_BMAP: id changed")
    line = text.splitlines().index(old) + 1
    assert f"FILE: arch/arm64/include/uapi/asm/kvm.h:{line}:" in result.stdout


def test_a_hostile_patch_reads_nothing_outside_and_is_never_a_silent_pass(tmp_path) -> None:
    work = make_repository(tmp_path / "kernel")
    header = work / "include/uapi/linux/kvm.h"
    text = header.read_text()
    header.write_text(text.replace("#include <linux/types.h>", '#include "/etc/passwd"\n#include <linux/types.h>', 1))
    # A header that is a symbolic link out of the tree, and a spec that includes its way out.
    (work / "include/uapi/linux/evil.h").symlink_to("/etc/passwd")
    (work / "spec/kvm/arm64/evil.uapi").write_text('include "../../../../../../etc/passwd"\n')
    git(work, "add", "-N", ".")
    patch = tmp_path / "evil.diff"
    patch.write_text(git(work, "diff"))
    git(work, "reset", "-q", "--hard")
    for leftover in ("include/uapi/linux/evil.h", "spec/kvm/arm64/evil.uapi"):
        (work / leftover).unlink(missing_ok=True)
    result = run_cli("check-patch", str(patch), "--format", "json", cwd=work)
    assert "root:" not in result.stdout + result.stderr  # /etc/passwd was not read
    findings = json.loads(result.stdout)["patches"][0]["findings"]
    codes = {(f["code"], f["path"]) for f in findings}
    assert ("E113", "include/uapi/linux/kvm.h") in codes  # the header change was not judged: said so
    assert ("E109", "spec/kvm/arm64/evil.uapi") in codes
    assert result.returncode == 1


def test_a_header_change_the_repository_specs_describe_but_the_patch_leaves_unspecified_is_h909(repo) -> None:
    """Patch 1 makes firmware.uapi name the arm64 header (`# header:`); patch 2 adds an
    enumerator to that header and no line to the spec: H909 at the added header line."""
    result = run_cli("check-patch", str(PATCHES / "header-unspecified.mbox"), "--format", "json", cwd=repo)
    first, second = json.loads(result.stdout)["patches"]
    assert first["findings"] == [] and first["state"] == "success"
    [finding] = second["findings"]
    assert (finding["code"], finding["path"], finding["severity"]) == (
        "H909",
        "arch/arm64/include/uapi/asm/kvm.h",
        "warning",
    )
    added = (PATCHES / "header-unspecified.mbox").read_text().splitlines()
    assert added[finding["patch_line"] - 1] == "+\tKVM_REG_ARM_VENDOR_HYP_BIT_NEW_SVC\t= 2,"
    assert "spec/kvm/arm64/firmware.uapi" in finding["message"] and second["state"] == "warning"


def _naming_the_arm64_header(tmp_path, directive: str = "# header:") -> tuple:
    """A repository whose firmware.uapi names the arm64 header (committed), and that header
    with the NEW_SVC enumerator added in the work tree: (repository, spec, header)."""
    work = make_repository(tmp_path / "kernel")
    spec = work / "spec/kvm/arm64/firmware.uapi"
    spec.write_text(f"{directive} ../../../arch/arm64/include/uapi/asm/kvm.h\n" + spec.read_text())
    git(work, "commit", "-q", "-am", "spec: name the header")
    header = work / "arch/arm64/include/uapi/asm/kvm.h"
    bit = "\tKVM_REG_ARM_VENDOR_HYP_BIT_PTP\t\t= 1,\n"
    header.write_text(header.read_text().replace(bit, bit + "\tKVM_REG_ARM_VENDOR_HYP_BIT_NEW_SVC\t= 2,\n"))
    return work, spec, header


def test_a_header_change_with_its_spec_change_in_the_same_patch_is_no_h909(tmp_path) -> None:
    work, spec, header = _naming_the_arm64_header(tmp_path)
    described = '    1 PTP       since "5.12"\n'
    assert described in spec.read_text()
    spec.write_text(spec.read_text().replace(described, described + '    2 NEW_SVC   since "6.13"\n'))
    patch = tmp_path / "both.diff"
    patch.write_text(git(work, "diff"))
    git(work, "checkout", "--", ".")
    result = run_cli("check-patch", str(patch), "--format", "json", cwd=work)
    [only] = json.loads(result.stdout)["patches"]
    assert "H909" not in {f["code"] for f in only["findings"]}, result.stdout
    header.write_text(
        header.read_text().replace("/* Device Control API on vm fd */", "/* Device Control API, on the vm fd */")
    )
    patch.write_text(git(work, "diff"))
    git(work, "checkout", "--", ".")
    result = run_cli("check-patch", str(patch), "--format", "json", cwd=work)
    assert json.loads(result.stdout)["patches"][0]["findings"] == []  # a comment is no change


def test_flag_bits_and_enumerators_are_compared_by_name(tmp_path) -> None:
    """A bit moved, a bit macro removed, an enumerator inserted in the middle of an enum: each
    is caught from the header, at its line (a removal at the diff's `-` line); a value appended
    at the end, which moves nothing but the enum's closing count, is not."""
    work = make_repository(tmp_path / "kernel")
    header = work / "include/uapi/linux/kvm.h"
    text = header.read_text()
    changed = text.replace("#define KVM_MEM_READONLY\t(1UL << 1)", "#define KVM_MEM_READONLY\t(1UL << 3)")
    changed = changed.replace("#define KVM_NOTIFY_CONTEXT_INVALID\t(1 << 0)\n", "")
    changed = changed.replace("\tKVM_DEV_TYPE_XICS,\n", "\tKVM_DEV_TYPE_NEW,\n\tKVM_DEV_TYPE_XICS,\n", 1)
    assert changed.count("KVM_DEV_TYPE_NEW") == 1 and "(1UL << 3)" in changed and changed != text
    header.write_text(changed)
    patch = tmp_path / "constants.diff"
    patch.write_text(git(work, "diff"))
    git(work, "checkout", "--", ".")
    result = run_cli("check-patch", str(patch), "--format", "json", cwd=work)
    findings = json.loads(result.stdout)["patches"][0]["findings"]
    diff_lines = patch.read_text().splitlines()
    told = {(f["code"], f["message"].split()[0]): diff_lines[f["patch_line"] - 1] for f in findings if f["patch_line"]}
    assert told[("B615", "KVM_MEM_READONLY")] == "+#define KVM_MEM_READONLY\t(1UL << 3)"
    assert told[("B601", "flags")] == "-#define KVM_NOTIFY_CONTEXT_INVALID\t(1 << 0)"
    assert told[("B615", "KVM_DEV_TYPE_XICS")] == " \tKVM_DEV_TYPE_XICS,"
    shifted = {f["message"].split()[0] for f in findings if f["code"] == "B615"}
    assert {"KVM_DEV_TYPE_VFIO", "KVM_DEV_TYPE_RISCV_AIA"} <= shifted and "KVM_DEV_TYPE_MAX" not in shifted
    assert "KVM_DEV_TYPE_FSL_MPIC_42" not in shifted and result.returncode == 1

    appended = text.replace("\tKVM_DEV_TYPE_MAX,", "\tKVM_DEV_TYPE_NEW,\n\tKVM_DEV_TYPE_MAX,", 1)
    assert appended != text
    header.write_text(appended)
    patch.write_text(git(work, "diff"))
    git(work, "checkout", "--", ".")
    result = run_cli("check-patch", str(patch), "--format", "json", cwd=work)
    assert json.loads(result.stdout)["patches"][0]["findings"] == [] and result.returncode == 0


def test_a_capability_removed_from_the_header_is_told_at_the_removed_line(tmp_path) -> None:
    work = make_repository(tmp_path / "kernel")
    header = work / "include/uapi/linux/kvm.h"
    text = header.read_text()
    [line] = [x for x in text.splitlines(keepends=True) if x.startswith("#define KVM_CAP_IMMEDIATE_EXIT")]
    header.write_text(text.replace(line, ""))
    patch = tmp_path / "gone.diff"
    patch.write_text(git(work, "diff"))
    git(work, "checkout", "--", ".")
    result = run_cli("check-patch", str(patch), cwd=work)
    assert result.returncode == 1
    assert "ERROR: B601 removed: capability KVM_CAP_IMMEDIATE_EXIT is removed" in result.stdout
    assert "-" + line.rstrip("\n") in result.stdout.splitlines()


def test_a_header_directive_written_without_a_space_is_found_as_check_reads_it(tmp_path) -> None:
    """`#header:` is a directive to the builder, so check-patch finds it too (H909)."""
    work, _, _ = _naming_the_arm64_header(tmp_path, "#header:")
    patch = tmp_path / "header.diff"
    patch.write_text(git(work, "diff"))
    git(work, "checkout", "--", ".")
    result = run_cli("check-patch", str(patch), "--format", "json", cwd=work)
    assert [f["code"] for f in json.loads(result.stdout)["patches"][0]["findings"]] == ["H909"]
