"""The arm64 target: KVM in an emulated arm64 guest (qemu TCG at EL2), driven over the console.

The guest tests need qemu-system-aarch64, aarch64-linux-gnu-gcc and an arm64 kernel image
named by UAPI_ARM64_KERNEL (`.ci/run` installs them and fetches Debian's); they skip with the
reason where any is missing. The archive and the protocol are tested without them.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from validator.kernel import qemu
from validator.kernel.kvm import KvmUnavailable

IMAGE = os.environ.get("UAPI_ARM64_KERNEL", "")


def _missing() -> str | None:
    tools = [t for t in (qemu.QEMU, qemu.CROSS_GCC) if shutil.which(t) is None]
    if tools:
        return f"{' and '.join(tools)} not installed"
    if not IMAGE or not os.path.isfile(IMAGE):
        return "UAPI_ARM64_KERNEL names no arm64 kernel image (.ci/arm64-kernel fetches Debian's)"
    return None


MISSING = _missing()
needs_guest = pytest.mark.skipif(MISSING is not None, reason=f"no emulated arm64 guest: {MISSING}")
FIRMWARE = ROOT / "spec" / "kvm" / "arm64"


def _read_cpio(data: bytes) -> list[tuple[str, int, int, int, bytes]]:
    """(name, mode, rdevmajor, rdevminor, data) of each entry of a newc archive."""
    entries, at = [], 0
    while True:
        header = data[at : at + 110]
        assert header[:6] == b"070701"
        fields = [int(header[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
        name_size, size = fields[11], fields[6]
        name_at = at + 110
        name = data[name_at : name_at + name_size - 1].decode()
        data_at = name_at + name_size + (-(110 + name_size) % 4)
        if name == "TRAILER!!!":
            return entries
        entries.append((name, fields[1], fields[9], fields[10], data[data_at : data_at + size]))
        at = data_at + size + (-size % 4)


def test_the_initramfs_is_a_newc_archive_with_init_and_a_console(tmp_path, monkeypatch) -> None:
    if shutil.which(qemu.CROSS_GCC) is None:
        pytest.skip(f"{qemu.CROSS_GCC} not installed")
    archive = qemu.build_initramfs(str(tmp_path))
    entries = _read_cpio(Path(archive).read_bytes())
    assert [(name, stat.S_IFMT(mode)) for name, mode, *_ in entries] == [
        ("dev", stat.S_IFDIR),
        ("dev/console", stat.S_IFCHR),
        ("init", stat.S_IFREG),
    ]
    console, init = entries[1], entries[2]
    assert (console[2], console[3]) == (5, 1)
    assert init[4][:4] == b"\x7fELF" and init[4][18] == 0xB7  # an ELF for EM_AARCH64
    assert init[1] & 0o111


@pytest.mark.parametrize(
    ("answer", "value", "errno"),
    [("ok 1f", 0x1F, None), ("ok", None, None), ("err 22", None, "EINVAL"), ("err 16", None, "EBUSY")],
)
def test_the_guests_answers_become_outcomes(answer, value, errno) -> None:
    outcome = qemu._outcome(answer)
    assert (outcome.value, outcome.errno) == (value, errno)


def test_the_tools_are_named_with_their_install_when_missing(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    with pytest.raises(KvmUnavailable, match="apt-get install qemu-system-arm gcc-aarch64-linux-gnu"):
        qemu.require_tools(str(tmp_path / "vmlinuz"))
    monkeypatch.setattr(shutil, "which", lambda tool: "/usr/bin/" + tool)
    with pytest.raises(KvmUnavailable, match="no such kernel image"):
        qemu.require_tools(str(tmp_path / "vmlinuz"))


def test_conform_on_the_guest_without_an_image_is_one_line(tmp_path) -> None:
    result = run_cli(
        "conform", str(FIRMWARE / "firmware.uapi"), "--target", "qemu-aarch64", "--kernel", str(tmp_path / "none")
    )
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and "conform:" in result.stderr


@needs_guest
def test_the_firmware_spec_conforms_to_the_guest_kernel() -> None:
    result = run_cli(
        "conform", str(FIRMWARE / "firmware.uapi"), "--target", "qemu-aarch64", "--kernel", IMAGE, "--format", "json"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["findings"] == []
    [summary] = [note for note in document["notes"] if "verified" in note]
    assert "(aarch64, emulated)" in summary and ", 0 contradicted, " in summary


@needs_guest
def test_planted_wrong_claims_are_reported_at_their_register(tmp_path) -> None:
    for name in ("common.uapi", "firmware.uapi"):
        (tmp_path / name).write_text((FIRMWARE / name).read_text())
    planted = tmp_path / "firmware.uapi"
    text = planted.read_text()
    start = text.index("register KVM_REG_ARM_STD_BMAP {")
    block = text[start : text.index("\n}\n", start)]
    wrong = (
        block.replace("rewrite  same_value ok", "rewrite  same_value EBUSY")
        .replace("reserved reject EINVAL", "reserved ignore")
        .replace("scope    vm", "scope    vcpu")
    )
    planted.write_text(text.replace(block, wrong))
    result = run_cli("conform", str(planted), "--target", "qemu-aarch64", "--kernel", IMAGE, "--format", "json")
    assert result.returncode == 1, result.stderr
    lines = planted.read_text().splitlines()
    found = {(f["code"], lines[f["line"] - 1].split()[0]) for f in json.loads(result.stdout)["findings"]}
    assert found == {("K104", "rewrite"), ("K108", "reserved"), ("K103", "scope")}


@needs_guest
def test_probe_of_the_guest_finds_the_firmware_bitmaps_per_vm_on_the_vcpu_path(tmp_path) -> None:
    draft = tmp_path / "arm64.uapi"
    result = run_cli("probe", "--target", "qemu-aarch64", "--kernel", IMAGE, "-o", str(draft))
    assert result.returncode == 0, result.stderr
    findings = json.loads(run_cli("check", str(draft), "--format", "json").stdout)["findings"]
    assert not [f for f in findings if f["severity"] == "error"]
    # The seed's design, found by experiment: one value per VM, reached per vCPU.
    assert sorted(f["subject"] for f in findings if f["code"] == "S201") == [
        "register/KVM_REG_ARM_PSCI_VERSION",
        "register/KVM_REG_ARM_STD_BMAP",
        "register/KVM_REG_ARM_STD_HYP_BMAP",
        "register/KVM_REG_ARM_VENDOR_HYP_BMAP",
    ]
    assert 'api "kvm/arm64" version "6.1"' in draft.read_text()


@needs_guest
def test_the_guest_asks_arguments_and_capability_deadlines_through_its_ioctl_command(tmp_path) -> None:
    # KVM_CAP_ARM_NISV_TO_USER may be enabled at any time (arch/arm64/kvm/arm.c); a zeroed
    # kvm_vcpu_init names no target, so the vCPU-init probes have no control.
    for name in ("common.uapi", "ioctls.uapi"):
        (tmp_path / name).write_text((FIRMWARE / name).read_text())
    planted = tmp_path / "ioctls.uapi"
    planted.write_text(
        planted.read_text()
        + "\ncapability KVM_CAP_ARM_NISV_TO_USER : vm {\n  kind   opt_in\n  before vcpu_create else EBUSY\n}\n"
    )
    result = run_cli("conform", str(planted), "--target", "qemu-aarch64", "--kernel", IMAGE, "--format", "json")
    document = json.loads(result.stdout)
    lines = planted.read_text().splitlines()
    found = [(f["code"], lines[f["line"] - 1].split()[0]) for f in document["findings"]]
    assert found == [("K111", "before")], result.stdout + result.stderr
    assert "after vcpu_create" in document["findings"][0]["message"]
    assert any("KVM_ARM_VCPU_INIT refuses a zeroed argument too (EINVAL)" in note for note in document["notes"])
