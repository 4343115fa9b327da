"""The kernel by experiment: the plan on a fake kernel (no KVM needed), the transport's ioctl
numbers against the installed <linux/kvm.h> (gcc), and `probe` on this machine's /dev/kvm."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field

import pytest

from tests.conftest import run_cli
from validator.kernel import kvm
from validator.kernel.experiments import judge_scope, probe_registers
from validator.kernel.kvm import Outcome

KVM_MISSING = kvm.available()
needs_kvm = pytest.mark.skipif(KVM_MISSING is not None, reason=f"no usable /dev/kvm: {KVM_MISSING}")

VM_REG, VCPU_REG, COUNTER, MASKED, FROZEN = 1, 2, 3, 4, 5


@dataclass
class FakeKernel:
    """Registers of known behaviour: one value per VM, one per vCPU, a counter, one that
    keeps no written value, and one frozen (EBUSY) once a vCPU ran."""

    vm_values: dict[int, int] = field(default_factory=lambda: {VM_REG: 0})
    ran: bool = False
    ticks: int = 0


@dataclass
class FakeVcpu:
    kernel: FakeKernel
    own: dict[int, int] = field(default_factory=lambda: {VCPU_REG: 7, FROZEN: 0})

    def get(self, register_id: int) -> Outcome:
        if register_id == VM_REG:
            return Outcome(self.kernel.vm_values[VM_REG])
        if register_id == COUNTER:
            self.kernel.ticks += 1
            return Outcome(self.kernel.ticks)
        if register_id == MASKED:
            return Outcome(0)
        return Outcome(self.own[register_id])

    def set(self, register_id: int, value: int) -> Outcome:
        if register_id == VM_REG:
            self.kernel.vm_values[VM_REG] = value
        elif register_id == FROZEN and self.kernel.ran and value != self.own[FROZEN]:
            return Outcome(errno="EBUSY")
        elif register_id in self.own:
            self.own[register_id] = value
        return Outcome()

    def run(self) -> Outcome:
        self.kernel.ran = True
        return Outcome(kvm.KVM_EXIT_HLT)


def test_the_plan_tells_each_kind_of_register_apart() -> None:
    kernel = FakeKernel()
    vcpus = [FakeVcpu(kernel), FakeVcpu(kernel)]
    vm_reg, vcpu_reg, counter, masked, frozen = probe_registers([VM_REG, VCPU_REG, COUNTER, MASKED, FROZEN], vcpus)
    assert (vm_reg.scope.value, vm_reg.uniform.value, vm_reg.reset.value) == ("vm", "last_wins", "0x0")
    assert (vcpu_reg.scope.value, vcpu_reg.uniform, vcpu_reg.reset.value) == ("vcpu", None, "0x7")
    assert vcpu_reg.writable.value == "always"
    assert counter.reset is None and "changes between reads" in counter.unknown[0]
    assert masked.scope is None and "reads back as 0x0" in masked.unknown[0]
    assert frozen.writable.value == "before first_run else EBUSY" and frozen.rewrite.value == "ok"
    # Every value the experiments wrote was put back.
    assert kernel.vm_values[VM_REG] == 0 and [v.own[VCPU_REG] for v in vcpus] == [7, 7]


@pytest.mark.parametrize(
    ("before", "written", "after", "scope"),
    [
        ((0, 0), 0x1000, (0x1000, 0x1000), "vm"),
        ((0, 5), 0x1000, (0x1000, 5), "vcpu"),
        ((0, 0), 0x1000, (0, 0), None),  # the write did not take
        ((0, 5), 0x1000, (0x1000, 9), None),  # vCPU 1 changed to something else
    ],
)
def test_judging_scope(before, written, after, scope) -> None:
    assert judge_scope(before, written, after)[0] == scope


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_the_ioctl_numbers_are_the_installed_headers(tmp_path) -> None:
    names = [
        "KVM_GET_API_VERSION",
        "KVM_CREATE_VM",
        "KVM_GET_MSR_INDEX_LIST",
        "KVM_CHECK_EXTENSION",
        "KVM_GET_VCPU_MMAP_SIZE",
        "KVM_CREATE_VCPU",
        "KVM_SET_USER_MEMORY_REGION",
        "KVM_RUN",
        "KVM_GET_ONE_REG",
        "KVM_SET_ONE_REG",
        "KVM_EXIT_HLT",
    ]
    source = tmp_path / "n.c"
    source.write_text(
        "#include <stdio.h>\n#include <linux/kvm.h>\nint main(void) {\n"
        + "".join(f'  printf("%lu\\n", (unsigned long)({name}));\n' for name in names)
        + "  return 0;\n}\n"
    )
    subprocess.run(["gcc", "-o", str(tmp_path / "n"), str(source)], check=True, capture_output=True)
    printed = subprocess.run([str(tmp_path / "n")], check=True, capture_output=True, text=True).stdout.split()
    assert dict(zip(names, map(int, printed), strict=True)) == {name: getattr(kvm, name) for name in names}


@needs_kvm
def test_probe_finds_the_per_vm_wall_clock_and_check_reports_it(tmp_path) -> None:
    draft = tmp_path / "x86.uapi"
    result = run_cli("probe", "-o", str(draft))
    assert result.returncode == 0, result.stderr
    report = json.loads(run_cli("check", str(draft), "--format", "json").stdout)
    findings = report["findings"]
    assert not [f for f in findings if f["severity"] == "error"]
    s201 = sorted(f["subject"] for f in findings if f["code"] == "S201")
    assert s201 == ["register/MSR_KVM_WALL_CLOCK", "register/MSR_KVM_WALL_CLOCK_NEW"]
    text = draft.read_text()
    sysenter = text[text.index("register MSR_IA32_SYSENTER_CS {") :].split("}", 1)[0]
    assert "scope    vcpu" in sysenter and "reset    0x0" in sysenter
    assert run_cli("fmt", "--check", str(draft)).returncode == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--vcpus", "1"), "--vcpus takes 2 to 64"),
        (("--device", "/nonexistent/kvm"), "probe: /nonexistent/kvm: No such file or directory"),
        (("--device", "/dev/null"), "probe: /dev/null: KVM API version -1, not 12"),
    ],
)
def test_probe_that_cannot_run_says_why_in_one_line(tmp_path, arguments, message) -> None:
    result = run_cli("probe", *arguments, "-o", str(tmp_path / "draft.uapi"))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and message in result.stderr
    assert not (tmp_path / "draft.uapi").exists()
