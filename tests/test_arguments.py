"""conform for the ioctl statements (validator.kernel.arguments): the probes a spec plans,
the verdicts facts give, on fakes; and on this machine's KVM where there is one."""

from __future__ import annotations

import json
import platform

import pytest

from tests.conftest import ROOT, run_cli, write
from validator.frontend.load import load_text_unit
from validator.frontend.resolve import resolve
from validator.kernel import kvm
from validator.kernel.arguments import (
    KVM_ENABLE_CAP,
    argument_probes,
    enable_cap_payload,
    judge_arguments,
    judge_deadlines,
)
from validator.kernel.kvm import Outcome
from validator.kernel.verdicts import ARGUMENT, CONTRADICTED, DEADLINE, UNTESTABLE, VERIFIED

KVM_MISSING = kvm.available()
needs_kvm = pytest.mark.skipif(KVM_MISSING is not None, reason=f"no usable /dev/kvm: {KVM_MISSING}")

FILTER = """api "kvm/x86" version "6.12"
abi x86_64
flags f : u32 {
  0 A
  unknown reject EINVAL
}
struct s {
  field flags f in
  pad   hole u32 ignore
  field value u64 in
  pad   reserved u64 check zero EINVAL
}
ioctl KVM_X : vm {
  nr  0xc6
  dir in
  arg s
  extend by flags
}
capability KVM_CAP_SPLIT_IRQCHIP : vm {
  kind   opt_in
  before vcpu_create else EEXIST
}
"""


def _spec(text: str = FILTER):
    return resolve(load_text_unit(text, "t.uapi"))


class FakeKernel:
    """An fd opener whose ioctls answer by a rule over (event, request, payload)."""

    def __init__(self, answer) -> None:
        self.answer, self.asked = answer, []

    def open_fd(self, scope: str, event: str | None):
        def issue(request: int, payload: bytes) -> Outcome:
            self.asked.append((scope, event, request, payload))
            return self.answer(event, request, payload)

        return issue


def test_the_probes_are_each_undefined_bit_and_each_pad_at_their_offsets() -> None:
    spec = _spec()
    request, size, probes = argument_probes(spec, spec.ioctls["KVM_X"], "x86_64")
    assert size == 24 and request == 0x4018AEC6
    bits = [p for p in probes if p.what.startswith("bit ")]
    assert [int(p.what.split()[1]) for p in bits] == list(range(1, 32))  # bit 0 is defined
    assert all(p.offset == 0 and len(p.data) == 4 and p.refused_with == "EINVAL" for p in bits)
    pads = {p.what: (p.offset, p.refused_with) for p in probes if not p.what.startswith("bit ")}
    assert pads == {"hole nonzero": (4, None), "reserved nonzero": (16, "EINVAL")}


def _checks_flags_and_reserved(event, request, payload: bytes) -> Outcome:
    """A kernel that refuses undefined flag bits and a nonzero `reserved`, and reads nothing else."""
    flags = int.from_bytes(payload[:4], "little")
    return Outcome(errno="EINVAL") if flags & ~1 or any(payload[16:24]) else Outcome(0)


def test_a_kernel_that_checks_what_the_spec_says_verifies_every_claim() -> None:
    verdicts = judge_arguments(_spec(), FakeKernel(_checks_flags_and_reserved).open_fd, "x86_64", "6.12")
    assert [(v.subject, v.status) for v in verdicts] == [
        ("flags/f", VERIFIED),
        ("struct/s/hole", VERIFIED),
        ("struct/s/reserved", VERIFIED),
    ]
    assert verdicts[0].observed == "refused flags bits 1-31 with EINVAL" and verdicts[0].kind == ARGUMENT


def test_an_unchecked_bit_a_checked_hole_and_another_errno_are_each_told() -> None:
    def kernel(event, request, payload: bytes) -> Outcome:
        flags = int.from_bytes(payload[:4], "little")
        if flags & (1 << 7):
            return Outcome(0)  # bit 7 is not checked
        if flags & ~1 or any(payload[4:8]):
            return Outcome(errno="EINVAL")
        return Outcome(errno="E2BIG") if any(payload[16:24]) else Outcome(0)

    verdicts = {v.subject: v for v in judge_arguments(_spec(), FakeKernel(kernel).open_fd, "x86_64", "6.12")}
    assert verdicts["flags/f"].status == CONTRADICTED and "accepted flags bit 7" in verdicts["flags/f"].observed
    assert (
        verdicts["struct/s/hole"].status == CONTRADICTED and "refused with EINVAL" in verdicts["struct/s/hole"].observed
    )
    reserved = verdicts["struct/s/reserved"]
    assert reserved.status == CONTRADICTED and reserved.errno_only and "E2BIG" in reserved.observed


def test_a_refused_zeroed_argument_makes_every_claim_untestable_with_why() -> None:
    verdicts = judge_arguments(_spec(), FakeKernel(lambda *_: Outcome(errno="ENOENT")).open_fd, "x86_64", "6.12")
    assert {v.status for v in verdicts} == {UNTESTABLE}
    assert all("refuses a zeroed argument too (ENOENT)" in v.observed for v in verdicts)


def test_an_ioctl_newer_than_the_kernel_is_not_issued() -> None:
    fake = FakeKernel(_checks_flags_and_reserved)
    text = FILTER.replace("  extend by flags\n", '  extend by flags\n  since "6.20"\n')
    verdicts = judge_arguments(_spec(text), fake.open_fd, "x86_64", "6.12")
    assert fake.asked == [] and {v.status for v in verdicts} == {UNTESTABLE}


def test_a_deadline_is_the_control_on_a_fresh_vm_then_the_enable_after_the_event() -> None:
    def kernel(event, request, payload):
        assert request == KVM_ENABLE_CAP and payload == enable_cap_payload(121)
        return Outcome(errno="EEXIST") if event == "vcpu_create" else Outcome(0)

    fake = FakeKernel(kernel)
    [verdict] = judge_deadlines(_spec(), {"KVM_CAP_SPLIT_IRQCHIP": 121}, fake.open_fd, lambda n: 1, "6.12")
    assert (verdict.kind, verdict.status) == (DEADLINE, VERIFIED)
    assert [(a[1]) for a in fake.asked] == [None, "vcpu_create"]
    # No deadline at all; another errno; a capability the host does not offer.
    no_deadline = FakeKernel(lambda *_: Outcome(0)).open_fd
    [verdict] = judge_deadlines(_spec(), {"KVM_CAP_SPLIT_IRQCHIP": 121}, no_deadline, lambda n: 1, "6.12")
    assert verdict.status == CONTRADICTED and not verdict.errno_only
    other = FakeKernel(lambda event, *_: Outcome(errno="EBUSY") if event else Outcome(0)).open_fd
    [verdict] = judge_deadlines(_spec(), {"KVM_CAP_SPLIT_IRQCHIP": 121}, other, lambda n: 1, "6.12")
    assert verdict.status == CONTRADICTED and verdict.errno_only
    [verdict] = judge_deadlines(_spec(), {"KVM_CAP_SPLIT_IRQCHIP": 121}, no_deadline, lambda n: 0, "6.12")
    assert verdict.status == UNTESTABLE


@needs_kvm
def test_this_kernel_refuses_each_undefined_msr_filter_flag_and_splits_the_irqchip_only_before_vcpus() -> None:
    from validator.frontend.load import load_units
    from validator.kernel.conform import kvm_conformer

    spec = resolve(load_units([str(ROOT / "spec/kvm/x86/ioctls.uapi")])[0])
    with kvm.Kvm() as machine:
        conformance = kvm_conformer(machine, 2, platform.release())(spec)
    verdicts = {(v.kind, v.subject): v for v in conformance.verdicts}
    msr_filter = verdicts[(ARGUMENT, "flags/kvm_msr_filter_flags")]
    assert msr_filter.status == VERIFIED and msr_filter.observed == "refused flags bits 1-31 with EINVAL"
    split = verdicts[(DEADLINE, "capability/KVM_CAP_SPLIT_IRQCHIP")]
    assert split.status == VERIFIED and split.observed.endswith("after vcpu_create refused with EEXIST")
    assert verdicts[(ARGUMENT, "struct/kvm_cpuid2/padding")].status == VERIFIED


@needs_kvm
def test_planted_wrong_argument_and_deadline_claims_are_k110_and_k111(tmp_path) -> None:
    # The hole after the MSR filter's flags is never read; USER_SPACE_MSR has no deadline.
    path = write(
        tmp_path,
        "planted.uapi",
        'api "kvm/x86" version "6.1"\nabi x86_64\n'
        "flags f : u32 {\n  0 DEFAULT_DENY\n  unknown reject EINVAL\n}\n"
        "struct kvm_msr_filter {\n  field flags f in\n  pad hole u32 check zero EINVAL\n"
        "  field ranges u64[48] in\n}\n"
        "ioctl KVM_X86_SET_MSR_FILTER : vm {\n  nr 0xc6\n  dir in\n  arg kvm_msr_filter\n  extend by flags\n}\n"
        "capability KVM_CAP_X86_USER_SPACE_MSR : vm {\n  kind opt_in\n  before vcpu_create else EBUSY\n}\n",
    )
    result = run_cli("conform", str(path), "--format", "json")
    lines = path.read_text().splitlines()
    found = sorted((f["code"], lines[f["line"] - 1].split()[0]) for f in json.loads(result.stdout)["findings"])
    assert found == [("K110", "pad"), ("K111", "before")], result.stdout
