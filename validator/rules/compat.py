"""C: compatibility — what old guests, old hosts and existing VMMs keep."""

from __future__ import annotations

from collections.abc import Iterator

from validator.diff.compare import Comparison
from validator.frontend.resolve import ResolvedSpec
from validator.model import spec as m
from validator.model.findings import ERROR, INFO, WARNING, Problem, Related
from validator.model.spec import attr_span
from validator.rules._facts import is_new, names, predates, subject
from validator.rules.catalog import DIFF, rule


@rule("C501", "reset-drops-behaviour", ERROR, "a bitmap whose reset clears a bit older than the register")
def reset_drops_behaviour(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A bitmap register whose `reset` value clears a bit whose `since` is older than the
    register's own `since`.

    ## Why it matters
    Such a bit describes behaviour guests had before the register existed (a hypercall they
    could always make). A VMM that does not know the new register never writes it, so the
    reset value is what its guests get: a reset that clears the bit takes the behaviour away
    on a kernel upgrade.

    ## How to fix
    Reset to every existing behaviour (`reset all`, or a value with those bits set); let
    userspace clear them explicitly.
    """
    for register in spec.registers.values():
        reset = register.reset
        if reset is None or reset.kind == "all" or not register.bits:
            continue
        value = reset.value or 0
        dropped = [b for b in register.bits if not value >> b.index & 1 and predates(b.since, register.since)]
        if dropped:
            listed = names([f"{b.name} (bit {b.index}, since {b.since})" for b in dropped])
            yield Problem(
                register.span,
                f"{register.name} (since {register.since}) resets to {'none' if reset.kind == 'none' else hex(value)}, "
                f"clearing {listed}: guests lose behaviour they had before the register existed",
                subject=subject(register),
                hint="reset to a value that keeps every older bit set (e.g. `reset all`)",
                related=(
                    Related(reset.span, "reset value"),
                    *tuple(Related(b.span, f"{b.name} since {b.since}") for b in dropped),
                ),
            )


@rule("C502", "reserved-bits-accepted", WARNING, "a bitmap that ignores undefined bits")
def reserved_bits_accepted(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A bitmap register (one with `bits`) with `reserved ignore` or no `reserved` clause.

    ## Why it matters
    If writes with undefined bits set succeed today, some VMM will set them (all-ones is a
    common "enable everything"); the bits can then never be given a meaning without changing
    what that VMM's guests get.

    ## How to fix
    Reject undefined bits: `reserved reject EINVAL`.
    """
    for register in spec.registers.values():
        if not register.bits:
            continue
        reserved = register.reserved
        if reserved is None or reserved.kind == "ignore":
            how = "ignores" if reserved else "does not say what it does with"
            yield Problem(
                register.span,
                f"{register.name} {how} writes with undefined bits set; those bits can never be given a meaning safely",
                subject=subject(register),
                hint="reject undefined bits: `reserved reject EINVAL`",
                related=(Related(reserved.span if reserved else attr_span(register, "bits"), "reserved bits"),),
            )


@rule("C503", "new-listed-state", INFO, "new migrated state in an enumerated list with no opt_in")
def new_listed_state(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    Migrated state new in the API version under review (`since` = the api version) that an
    enumerable interface lists (`KVM_GET_REG_LIST`) without an `opt_in`.

    ## Why it matters
    Every VMM that walks the list picks the new register up and saves it: migration to an
    older host, which does not know the register, then fails on restore. This is often the
    intended trade-off, which is why it is only information.

    ## How to fix
    Accept it knowingly, or list the register only after userspace opts in (`opt_in CAP`).
    """
    for register in spec.registers.values():
        if not register.migrate or register.opt_in is not None or not is_new(spec, register.since):
            continue
        listed = [i.name for i in spec.interfaces_of(register) if i.enumerable]
        if listed:
            yield Problem(
                register.span,
                f"{register.name} is new in {register.since} and listed by {names(listed)}: VMMs save it "
                "automatically, and restoring on an older host that lacks it fails",
                subject=subject(register),
                hint="accept it knowingly, or list it only after an `opt_in` capability",
                related=(Related(attr_span(register, "since"), f"since {register.since}"),),
            )


def _added_unenumerated(comparison: Comparison) -> Iterator[Problem]:
    """C504 in diff mode: migrated state added against the baseline (`since` covers the rest)."""
    proposal = comparison.proposal
    for register in comparison.added:
        if not isinstance(register, m.Register) or not register.migrate or is_new(proposal, register.since):
            continue
        interfaces = proposal.interfaces_of(register)
        if interfaces and not any(i.enumerable for i in interfaces):
            via = ", ".join(i.name for i in interfaces)
            yield Problem(
                register.span,
                f"{register.name} is migrated state added against the baseline and reached only through {via}, which "
                "no generic save/restore walks: every VMM needs new code to migrate it",
                subject=f"register/{register.name}",
                hint="reach it through an enumerable interface, or document the VMM save/restore sequence",
                related=(Related(attr_span(register, "via"), f"{via} has no list ioctl"),),
            )


@rule(
    "C504",
    "unenumerated-migration-state",
    WARNING,
    "new migrated state reached only through interfaces without list",
    also={DIFF: _added_unenumerated},
)
def unenumerated_migration_state(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    Migrated state new in the API version under review (`since` = the api version, or added
    against the baseline in diff mode) reached only through interfaces without `list`.

    ## Why it matters
    No generic save/restore loop finds it: every VMM (QEMU, crosvm, Firecracker,
    cloud-hypervisor) needs new code to migrate it, and until then guests lose it silently on
    migration. This is the cost of a new VM-fd configuration API.

    ## How to fix
    Reach it through an enumerable interface, or accept the cost knowingly and document the
    save/restore sequence VMMs must add.
    """
    for register in spec.registers.values():
        if not register.migrate or not is_new(spec, register.since):
            continue
        interfaces = spec.interfaces_of(register)
        if interfaces and not any(i.enumerable for i in interfaces):
            via = names([i.name for i in interfaces])
            yield Problem(
                register.span,
                f"{register.name} is new migrated state reached only through {via}, which no generic "
                "save/restore walks: every VMM needs new code to migrate it",
                subject=subject(register),
                hint="reach it through an enumerable interface, or document the VMM save/restore sequence",
                related=(Related(attr_span(register, "via"), f"{via} has no list ioctl"),),
            )


@rule("C505", "interface-without-capability", WARNING, "a new interface with neither a cap nor a has probe")
def interface_without_capability(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    An interface new in the API version under review with neither a `cap` (a capability
    userspace checks) nor a `has` probe ioctl.

    ## Why it matters
    Userspace cannot tell whether the running kernel offers the interface short of calling
    it and interpreting the failure: VMMs that must run on several kernels guess.

    ## How to fix
    Add a capability (`cap KVM_CAP_...`) or a probe (`has KVM_HAS_DEVICE_ATTR`).
    """
    for interface in spec.interfaces.values():
        if is_new(spec, interface.since) and interface.cap is None and interface.ioctl("has") is None:
            yield Problem(
                interface.span,
                f"{interface.name} is new in {interface.since}, with no capability and no probe: "
                "userspace cannot tell whether the kernel offers it",
                subject=subject(interface),
                hint="add `cap KVM_CAP_...` or a `has` probe ioctl",
                related=(Related(attr_span(interface, "since"), f"since {interface.since}"),),
            )


RULES = (
    reset_drops_behaviour,
    reserved_bits_accepted,
    new_listed_state,
    unenumerated_migration_state,
    interface_without_capability,
)
