"""`export selftest`: the spec's contract as a C KVM selftest (TAP), compiled with -Wall -Werror
for both architectures and run where a kernel is at hand: natively on x86, in the emulated
arm64 guest for arm64. Every line is `ok` on the bundled specs; a planted wrong claim is
`not ok` on that claim."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT, run_cli
from tests.test_kvm import needs_kvm
from tests.test_qemu import IMAGE, needs_guest
from validator.kernel import qemu

X86 = ROOT / "spec" / "kvm" / "x86"
ARM64 = ROOT / "spec" / "kvm" / "arm64"


def _program(tmp_path, spec, compiler: str, *arguments: str) -> bytes:
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} not installed")
    source, binary = tmp_path / "selftest.c", tmp_path / "selftest"
    result = run_cli("export", "selftest", str(spec), "-o", str(source), *arguments)
    assert result.returncode == 0, result.stderr
    compiled = subprocess.run(
        [compiler, "-static", "-O2", "-Wall", "-Werror", "-o", str(binary), str(source)], capture_output=True, text=True
    )
    assert compiled.returncode == 0, compiled.stderr
    return binary.read_bytes()


def _tap(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("ok ", "not ok ", "1.."))]


def _plant(tmp_path, folder, name: str, register: str, old: str, new: str):
    copy = tmp_path / "spec"
    shutil.copytree(folder, copy)
    path = copy / name
    text = path.read_text()
    start = text.index(f"register {register} {{")
    end = text.index("\n}\n", start)
    assert old in text[start:end]
    path.write_text(text[:start] + text[start:end].replace(old, new, 1) + text[end:])
    return path


def test_both_arches_compile_with_warnings_as_errors(tmp_path) -> None:
    _program(tmp_path, X86, "gcc", "--arch", "x86_64")
    _program(tmp_path, ARM64 / "firmware.uapi", qemu.CROSS_GCC, "--arch", "aarch64")


def test_a_spec_with_nothing_to_test_is_one_line(tmp_path) -> None:
    result = run_cli("export", "selftest", str(ARM64 / "pmu-filter.uapi"))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "no register an aarch64 selftest reaches" in result.stderr


@needs_kvm
def test_the_x86_selftest_passes_and_fails_on_a_planted_claim(tmp_path) -> None:
    binary = tmp_path / "selftest"
    binary.write_bytes(_program(tmp_path, X86, "gcc"))
    binary.chmod(0o755)
    ran = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60)
    lines = _tap(ran.stdout)
    assert ran.returncode == 0 and lines[-1] == f"1..{len(lines) - 1}" and len(lines) > 40
    assert all(line.startswith("ok ") for line in lines[:-1])
    assert "ok 25 - MSR_KVM_WALL_CLOCK: one value per VM (0x1000 written via vCPU 0, read via vCPU 1)" in lines

    planted = _plant(tmp_path, X86, "syscall.uapi", "MSR_STAR", "reset    0x0", "reset    0x5")
    (tmp_path / "wrong").mkdir()
    binary.write_bytes(_program(tmp_path / "wrong", planted, "gcc"))
    ran = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60)
    failed = [line for line in _tap(ran.stdout) if line.startswith("not ok")]
    assert ran.returncode == 1 and failed == [failed[0]] and "MSR_STAR: reset 0x0 on a fresh vCPU" in failed[0]


@needs_guest
def test_the_arm64_selftest_passes_in_the_guest_and_fails_on_a_planted_claim(tmp_path) -> None:
    lines = _tap(qemu.run_in_guest(IMAGE, _program(tmp_path, ARM64 / "firmware.uapi", qemu.CROSS_GCC)))
    assert lines[-1] == f"1..{len(lines) - 1}" and all(line.startswith("ok ") for line in lines[:-1])
    assert "KVM_REG_ARM_STD_BMAP: one value per VM (0x0 written via vCPU 0, read via vCPU 1)" in "\n".join(lines)

    planted = _plant(tmp_path, ARM64, "firmware.uapi", "KVM_REG_ARM_STD_BMAP", "scope    vm", "scope    vcpu")
    (tmp_path / "wrong").mkdir()
    lines = _tap(qemu.run_in_guest(IMAGE, _program(tmp_path / "wrong", planted, qemu.CROSS_GCC)))
    failed = [line for line in lines if line.startswith("not ok")]
    assert len(failed) == 1 and "KVM_REG_ARM_STD_BMAP: one value per vCPU" in failed[0]
