"""The hazard rules: exact boundaries, and messages that name the subject and the cost."""

from __future__ import annotations

import pytest

from tests.conftest import PRELUDE, ROOT, codes, findings
from tests.rules._examples import assert_examples, rules_in
from validator.pipeline.engine import check_paths

REGISTER = (
    PRELUDE
    + """
register R {
  scope   SCOPE
  via     VIA
  lock    LOCK
  migrate yes
  uniform last_wins
}
"""
)


def hazards(tmp_path, scope: str, via: str, lock: str, extra: str = "") -> set[str]:
    text = REGISTER.replace("SCOPE", scope).replace("VIA", via).replace("LOCK", lock)
    text = text.replace("  migrate yes\n", "  migrate yes\n" + extra)
    return codes(findings(text, tmp_path))


def test_per_vcpu_state_on_the_per_vcpu_path_is_not_flagged(tmp_path) -> None:
    assert hazards(tmp_path, "vcpu", "one_reg", "vcpu_lock") == set()


def test_vm_state_on_a_vm_interface_is_not_flagged(tmp_path) -> None:
    assert hazards(tmp_path, "vm", "vm_attr", "vm_lock") == set()


def test_vm_state_on_an_enumerable_vm_interface_is_not_flagged(tmp_path) -> None:
    text = PRELUDE + "interface vm_regs : vm {\n  get G\n  set S\n  list L\n  lock vm_lock\n}\n"
    text += "register R {\n  scope vm\n  via vm_regs\n  migrate yes\n  uniform last_wins\n}\n"
    assert codes(findings(text, tmp_path)) == set()


def test_vm_state_reachable_through_both_fds_is_not_s201_but_is_walked_per_vcpu(tmp_path) -> None:
    # A generic VMM walks the enumerable per-vCPU list, so the VM lock still serializes it.
    assert hazards(tmp_path, "vm", "vm_attr, one_reg", "vm_lock") == {"S202"}


def test_the_serializing_lock_may_be_the_interfaces_own(tmp_path) -> None:
    text = PRELUDE.replace("  lock vcpu_lock\n}", "  lock vm_lock\n}", 1)
    text += "register R {\n  scope vcpu\n  via one_reg\n  migrate yes\n}\n"
    assert codes(findings(text, tmp_path)) == {"S202"}


def test_unmigrated_state_is_not_a_serialized_restore(tmp_path) -> None:
    assert hazards(tmp_path, "vm", "one_reg", "vm_lock").issuperset({"S201", "S202"})
    text = REGISTER.replace("SCOPE", "vm").replace("VIA", "one_reg").replace("LOCK", "vm_lock")
    assert codes(findings(text.replace("migrate yes", "migrate no"), tmp_path)) == {"S201"}


def test_write_once_with_hint_is_written_once_and_not_flagged(tmp_path) -> None:
    caps = "capability HINT : vm {\n  kind query\n}\n"
    text = PRELUDE + caps + "register R {\n  scope write_once\n  hint HINT\n  via one_reg\n  lock vm_lock\n"
    text += "  migrate yes\n  uniform last_wins\n}\n"
    assert codes(findings(text, tmp_path)) == set()


def test_s202_message_gives_the_figures_and_the_lock(tmp_path) -> None:
    found = findings(REGISTER.replace("SCOPE", "vm").replace("VIA", "one_reg").replace("LOCK", "vm_lock"), tmp_path)
    [s202] = [f for f in found if f.code == "S202"]
    assert "512 serialized writes for 512 vCPUs" in s202.message and "vm_lock" in s202.message
    assert s202.subject == "register/R"
    assert s202.hint.startswith("reach it through the VM fd")
    assert [r.message for r in s202.related] == ["vm_lock is VM-scoped", "written through per-vCPU one_reg"]


def test_figures_follow_the_largest_scenario(tmp_path) -> None:
    text = REGISTER.replace("SCOPE", "vm").replace("VIA", "one_reg").replace("LOCK", "vm_lock")
    text += "scenario s : restore {\n  vcpus 2, 96\n}\n"
    [s201] = [f for f in findings(text, tmp_path) if f.code == "S201"]
    assert "(96 writes for 96 vCPUs)" in s201.message


def test_bundled_kvm_specs_flag_the_vm_state_on_vcpu_paths_and_nothing_per_vcpu() -> None:
    report = check_paths([str(ROOT / "spec" / "kvm")])
    flagged = {f.subject for f in report.findings if f.code in ("S201", "S202")}
    assert "register/KVM_REG_ARM_STD_BMAP" in flagged and "register/ID_AA64PFR0_EL1" in flagged
    assert "register/KVM_REG_ARM_TIMER_CNT" in flagged
    assert (
        not {"register/KVM_REG_ARM_CORE_PC", "register/KVM_REG_ARM_TIMER_CTL", "register/VM_COUNTER_OFFSET"} & flagged
    )


@pytest.mark.parametrize("rule", rules_in("scope"), ids=lambda r: r.code)
def test_examples(rule) -> None:
    assert_examples(rule)
