"""L: lifecycle — when state may be written, and what a late write gets."""

from __future__ import annotations

from collections.abc import Iterator

from validator.frontend.resolve import ResolvedSpec
from validator.model.findings import WARNING, Problem, Related
from validator.rules._facts import subject
from validator.rules.catalog import rule


@rule("L401", "deadline-without-errno", WARNING, "`writable before EVENT` with no `else ERRNO`")
def deadline_without_errno(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    `writable before EVENT` with no `else ERRNO`: the spec does not say what a write after
    the deadline returns.

    ## Why it matters
    A VMM cannot tell a late write from a bad value: it cannot retry, report or skip
    correctly, and whatever the kernel returns today becomes ABI by accident.

    ## How to fix
    Name the errno: `writable before first_run else EBUSY`.
    """
    for register in spec.registers.values():
        writable = register.writable
        if writable and writable.kind == "before" and writable.errno is None:
            yield Problem(
                register.span,
                f"{register.name} is writable only before {writable.event}, but the spec does not say "
                "which errno a later write gets",
                subject=subject(register),
                hint=f"add `else ERRNO`, e.g. `writable before {writable.event} else EBUSY`",
                related=(Related(writable.span, f"deadline {writable.event}"),),
            )


@rule("L402", "rewrite-rejected", WARNING, "frozen state that rejects rewriting its current value")
def rewrite_rejected(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    State frozen at a deadline (or never writable) that rejects even a write of the value it
    already holds (`rewrite same_value ERRNO`).

    ## Why it matters
    VMMs re-apply saved state wholesale: on vCPU hotplug, on reset, on a retried restore. A
    write of the identical value is harmless, yet it fails, and the VMM must learn to skip
    this one register.

    ## How to fix
    Accept identical rewrites: `rewrite same_value ok` (KVM does this for the arm64 ID
    registers and the firmware bitmaps).

    ## Not reported
    Where no VMM re-applies the state: state that is not migrated (`migrate no`, or no
    `migrate` clause), and VM state reached only through `vm` interfaces with a deadline at
    `vcpu_create` or earlier, which a VMM sets once, before it creates vCPUs.
    """
    for register in spec.registers.values():
        writable, rewrite = register.writable, register.rewrite
        if rewrite is None or rewrite.same_value_ok or writable is None or writable.kind == "always":
            continue
        if not register.migrate or spec.set_before_vcpus(register):
            continue
        frozen = f"after {writable.event}" if writable.kind == "before" else "at any time"
        yield Problem(
            register.span,
            f"{register.name} rejects a write of its current value {frozen} ({rewrite.errno.text}); "  # type: ignore[union-attr]
            "a VMM that re-applies saved state on hotplug, reset or retry fails",
            subject=subject(register),
            hint="accept identical rewrites: `rewrite same_value ok`",
            related=(Related(rewrite.span, "identical rewrite rejected"), Related(writable.span, "deadline")),
        )


RULES = (deadline_without_errno, rewrite_rejected)
