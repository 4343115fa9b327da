"""B: breaking changes against a baseline (diff mode)."""

from __future__ import annotations

from validator.catalog import DIFF, Rule, reported_by
from validator.findings import ERROR, WARNING


def _b(code: str, name: str, summary: str, what: str, why: str, fix: str, severity: str = ERROR) -> Rule:
    doc = f"## What it finds\n{what}\n\n## Why it matters\n{why}\n\n## How to fix\n{fix}"
    return reported_by(DIFF, code, name, severity, summary, doc)


RULES = (
    _b(
        "B601",
        "removed",
        "a register, feature, interface, capability or bit of the baseline is gone",
        "A register, feature, interface, capability or bit that the baseline has and the proposal lacks.",
        "Userspace built against the baseline still uses it: a VMM restoring a saved register that is gone "
        "fails the whole restore, and a migration from an older kernel breaks.",
        "Keep it (deprecate it in documentation if needed); ABI is not removed.",
    ),
    _b(
        "B602",
        "id-changed",
        "a register's id changed",
        "A register whose ONE_REG id differs from the baseline's.",
        "The id is the name userspace saves state under: a saved image from the old kernel no longer "
        "restores, and VMMs compiled against the old header address another register.",
        "Keep the old id; add a new register if the encoding must change.",
    ),
    _b(
        "B603",
        "width-changed",
        "a register's width changed",
        "A register whose width differs from the baseline's.",
        "VMMs size their buffers from the width: a changed width truncates or overruns saved state.",
        "Keep the width; add a new register for a wider value.",
    ),
    _b(
        "B604",
        "scope-changed",
        "a register's scope changed",
        "A register whose scope (vm, vcpu, write_once, ...) differs from the baseline's.",
        "VMMs save and restore per the scope they learnt: per-vCPU values collapsing into one VM value "
        "loses state, and the reverse leaves vCPUs unrestored.",
        "Keep the scope, or gate the new behaviour behind an opt-in capability.",
    ),
    _b(
        "B605",
        "access-path-removed",
        "an interface no longer reaches a register",
        "An interface (`via`) that reached a register in the baseline and no longer does.",
        "VMMs that save and restore through that interface lose the register.",
        "Keep the old access path working beside the new one.",
    ),
    _b(
        "B606",
        "lifecycle-tightened",
        "a write the baseline allowed is now refused",
        "A write the baseline accepted that the proposal refuses: an earlier deadline, `writable never`, "
        "a new opt-in, an identical rewrite now rejected.",
        "Existing VMMs issue the write at the time the baseline allowed it: they now fail mid-restore.",
        "Keep the old deadline, or refuse the write only after an opt-in.",
    ),
    _b(
        "B607",
        "reset-changed",
        "a reset value changed",
        "A register whose reset value differs from the baseline's.",
        "Guests of VMMs that never write the register see different behaviour after a kernel upgrade.",
        "Keep the reset value, or make the change opt-in.",
        WARNING,
    ),
    _b(
        "B608",
        "errno-changed",
        "the errno of a refused write changed",
        "A refused write whose errno differs from the baseline's (deadline, rewrite, uniformity, reserved bits).",
        "VMMs match on errno values to decide whether to retry, skip or fail.",
        "Keep the errno.",
    ),
    _b(
        "B609",
        "reserved-loosened",
        "reserved bits were rejected and are now ignored",
        "A bitmap whose undefined bits were rejected in the baseline and are ignored in the proposal.",
        "Once writes with undefined bits succeed, VMMs start setting them, and the bits can never be given "
        "a meaning safely.",
        "Keep rejecting undefined bits.",
    ),
)
