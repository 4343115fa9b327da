"""K: the running kernel contradicts the spec (`uapi-validator conform`).

Each rule reads the `Conformance` of one run: every claim the kernel could be asked about,
its answer, and the experiment that got it (validator.kernel.conform). A K finding is a
fact about this kernel, at the line of the claim it refutes; the message says what the
kernel did.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from validator.kernel.verdicts import (
    ARGUMENT,
    CAPABILITY,
    DEADLINE,
    LIFECYCLE,
    LISTED,
    RESERVED,
    RESET,
    SCOPE,
    UNIFORM,
    WIDTH,
    Conformance,
    Verdict,
)
from validator.model.findings import ERROR, Problem
from validator.rules.catalog import CONFORM, rule


def _problems(verdicts: Iterable[Verdict], kernel: str) -> Iterator[Problem]:
    for verdict in verdicts:
        yield Problem(
            verdict.span,
            f"the spec says {verdict.claimed}; {kernel}: {verdict.observed}",
            subject=verdict.subject,
            hint="correct the claim to what the kernel does, or report the kernel's behaviour as a bug",
        )


@rule("K101", "listing-contradicted", ERROR, "a register the list ioctl should return and does not", stage=CONFORM)
def listing_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    A register reached through an interface whose `list` ioctl (on x86,
    `KVM_GET_MSR_INDEX_LIST`) does not return it on the running kernel.

    ## Why it matters
    VMMs save exactly what the list returns: a register missing from it is silently lost on
    migration, whatever the spec says.

    ## How to fix
    Reach the register through an interface that does not claim to list it, or make the
    kernel list it.
    """
    return _problems(conformance.contradicted(LISTED), conformance.kernel)


@rule("K102", "reset-contradicted", ERROR, "a fresh vCPU holds another value than `reset` says", stage=CONFORM)
def reset_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    A `reset VALUE` that differs from what every fresh vCPU of a new VM reads.

    ## Why it matters
    VMMs and guests rely on reset values; a spec that states the wrong one sends every
    review of a change to it down the wrong path.

    ## How to fix
    Write the value the kernel gives (`uapi-validator probe` reads it), or fix the kernel.
    """
    return _problems(conformance.contradicted(RESET), conformance.kernel)


@rule(
    "K103", "scope-contradicted", ERROR, "one value per VM where the spec says per vCPU, or the reverse", stage=CONFORM
)
def scope_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    A `scope` the kernel contradicts: a value written through vCPU 0 that vCPU 1 reads back
    (one value per VM) where the spec says `vcpu`, or one vCPU 1 does not see where the spec
    says `vm` or `write_once`.

    ## Why it matters
    Scope decides how a VMM saves and restores the register, and every S rule reasons from
    it: a wrong scope hides the serialized restore or invents one.

    ## How to fix
    Write the scope the kernel has. If it is one value per VM on a per-vCPU path, S201 will
    then say so.
    """
    return _problems(conformance.contradicted(SCOPE), conformance.kernel)


@rule(
    "K104",
    "lifecycle-contradicted",
    ERROR,
    "a write the spec allows is refused, or one it forbids is accepted",
    stage=CONFORM,
)
def lifecycle_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    A `writable` or `rewrite` claim the kernel contradicts after the vCPU ran (`KVM_RUN` of
    a guest that halts at once): a write the spec allows that is refused, or one the spec
    refuses that is accepted.

    ## Why it matters
    A VMM restoring into a VM that has run (a migration's last pass, a reset) follows the
    lifecycle the interface promises; a wrong promise fails restores in the field.

    ## How to fix
    Write the deadline the kernel enforces (`writable before first_run else ERRNO`), or make
    the kernel enforce the one documented.
    """
    return _problems(conformance.contradicted(LIFECYCLE), conformance.kernel)


@rule("K105", "errno-contradicted", ERROR, "a refusal the spec names with another errno", stage=CONFORM)
def errno_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    A write refused as the spec says, but with another errno than the one it names
    (`writable`, `rewrite`, `uniform enforced`).

    ## Why it matters
    VMMs branch on errno values: EBUSY (try again before running) and EINVAL (never valid)
    call for different recoveries.

    ## How to fix
    Name the errno the kernel returns.
    """
    return _problems(conformance.errno_contradicted(), conformance.kernel)


@rule(
    "K106",
    "uniformity-contradicted",
    ERROR,
    "vCPUs' differing writes behave otherwise than `uniform` says",
    stage=CONFORM,
)
def uniformity_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    A `uniform` claim the kernel contradicts: a different value written through a second
    vCPU that replaces the first (`last_wins`) where the spec says `enforced`, or that is
    refused where it says `last_wins`.

    ## Why it matters
    Whether vCPUs must agree is ABI: a VMM restoring vCPUs one by one either can write each
    as saved, or must not.

    ## How to fix
    Write the uniformity the kernel has.
    """
    return _problems(conformance.contradicted(UNIFORM), conformance.kernel)


@rule("K107", "capability-contradicted", ERROR, "a capability KVM_CHECK_EXTENSION does not offer", stage=CONFORM)
def capability_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    A capability the spec declares (and does not date after the running kernel with
    `since`) for which `KVM_CHECK_EXTENSION` answers 0. A capability declared with
    `host "WHAT"` (offered only where the host has it, such as TSC scaling hardware) that
    answers 0 is counted as not testable here instead: this host may lack what it needs.

    ## Why it matters
    Userspace discovers an interface through its capability: one the kernel does not offer
    is an interface no VMM will use.

    ## How to fix
    Correct the capability's name or `since`, or find why the kernel does not offer it.
    """
    return _problems(conformance.contradicted(CAPABILITY), conformance.kernel)


@rule(
    "K108",
    "reserved-contradicted",
    ERROR,
    "undefined bits the kernel treats otherwise than `reserved` says",
    stage=CONFORM,
)
def reserved_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    A `reserved reject ERRNO` or `reserved ignore` the kernel contradicts: setting a bit the
    register's `bits` leave undefined is accepted and kept (the bit is not reserved), dropped
    where the spec says it is refused, or refused where the spec says it is ignored.

    ## Why it matters
    Whether undefined bits are refused decides whether they can ever be given a meaning:
    bits a kernel silently accepted cannot later start to mean something (C502).

    ## How to fix
    Name the bit the kernel accepts, or write the treatment the kernel gives undefined bits.
    """
    return _problems(conformance.contradicted(RESERVED), conformance.kernel)


@rule(
    "K109", "width-contradicted", ERROR, "a register KVM_GET_ONE_REG reads at another size than `width`", stage=CONFORM
)
def width_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    A `width` (and the id's size field that must agree with it) for which `KVM_GET_ONE_REG`
    fails, while the same register reads at one other size.

    ## Why it matters
    A VMM sizes its buffer from the id: with the wrong size every access to the register
    fails, and a saved VM does not restore.

    ## How to fix
    Declare the width the kernel uses, and the id with that size field.
    """
    return _problems(conformance.contradicted(WIDTH), conformance.kernel)


@rule(
    "K110",
    "argument-check-contradicted",
    ERROR,
    "undefined flag bits or reserved space the kernel treats otherwise than the spec says",
    stage=CONFORM,
)
def argument_check_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    A `flags` set's `unknown reject ERRNO`, or a `pad`'s `check zero ERRNO` or `ignore`, that
    the kernel contradicts. `conform` issues each declared ioctl that copies a struct in,
    with a zeroed argument (the control) and with one undefined bit of a top-level flags
    field set, or one pad made nonzero: an undefined bit accepted, or a pad refused that the
    spec says is ignored (or the reverse), is this finding. Claims are testable only where
    the kernel accepts the zeroed argument; the others are counted as not testable here.

    ## Why it matters
    This is the history of unchecked flags (`KVM_X86_SET_MSR_FILTER` until a 2022 fix): bits
    an old kernel accepted can never be given a meaning, because VMMs already pass them.

    ## How to fix
    Write what the kernel checks; if it does not check, fix the kernel before the ioctl ships.
    """
    return _problems(conformance.contradicted(ARGUMENT), conformance.kernel)


@rule(
    "K111",
    "capability-deadline-contradicted",
    ERROR,
    "a capability enabled after the deadline the spec gives it",
    stage=CONFORM,
)
def capability_deadline_contradicted(conformance: Conformance) -> Iterator[Problem]:
    """
    ## What it finds
    An opt-in (or opt-out) capability's `before EVENT` that the kernel contradicts:
    `KVM_ENABLE_CAP` with zero arguments succeeds on a fresh VM (the control) and succeeds
    again on a VM that has passed EVENT. (Refused with another errno than `else ERRNO` is
    K105's.)

    ## Why it matters
    VMMs order their setup by these deadlines: one that does not exist makes them serialize
    for nothing, and one the kernel enforces at another event breaks their setup.

    ## How to fix
    Write the deadline the kernel enforces, or none.
    """
    return _problems(conformance.contradicted(DEADLINE), conformance.kernel)


RULES = (
    listing_contradicted,
    reset_contradicted,
    scope_contradicted,
    lifecycle_contradicted,
    errno_contradicted,
    uniformity_contradicted,
    capability_contradicted,
    reserved_contradicted,
    width_contradicted,
    argument_check_contradicted,
    capability_deadline_contradicted,
)
