"""A: uniformity and asymmetry across vCPUs."""

from __future__ import annotations

from collections.abc import Iterator

from validator.diff.compare import Comparison
from validator.frontend.resolve import ResolvedSpec
from validator.model import spec as m
from validator.model.findings import ERROR, WARNING, Problem, Related
from validator.model.words import describe
from validator.rules._facts import subject
from validator.rules.catalog import DIFF, rule


@rule("A301", "implicit-uniformity-abi", WARNING, "an enforced restriction userspace can observe becomes ABI")
def implicit_uniformity_abi(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    `uniform enforced ERRNO as implementation`: the kernel refuses vCPUs that differ (for
    example, every vCPU must ask for the same features at `KVM_ARM_VCPU_INIT`), but only as an
    implementation choice, not a documented promise.

    ## Why it matters
    Userspace observes the restriction and comes to depend on it (a VMM configures vCPU 0
    and assumes the rest match). The choice has become ABI: relaxing it later breaks those
    VMMs unless the relaxation needs a userspace opt-in.

    ## How to fix
    Promise it (`as contract`, and document it), or define the asymmetry opt-in capability
    now, before anyone depends on uniformity.
    """
    for decl in spec.declarations():
        uniform = getattr(decl, "uniform", None)
        if not isinstance(decl, m.Register | m.Feature) or uniform is None:
            continue
        if uniform.kind == "enforced" and uniform.basis == "implementation":
            errno = uniform.errno.text if uniform.errno else "an error"
            yield Problem(
                decl.span,
                f"{decl.name} must be the same on every vCPU (a differing vCPU gets {errno}), but only as an "
                "implementation choice; userspace can observe it, so it is ABI already",
                subject=subject(decl),
                hint="promise it with `as contract`, or give the asymmetry an opt_in capability now",
                related=(Related(uniform.span, "enforced as implementation"),),
            )


@rule(
    "A302",
    "asymmetry-without-opt-in",
    ERROR,
    "something uniform in the baseline may differ per vCPU in the proposal, with no opt_in",
    stage=DIFF,
)
def asymmetry_without_opt_in(comparison: Comparison) -> Iterator[Problem]:
    """
    ## What it finds
    (diff mode) A register or feature that the baseline keeps uniform across vCPUs
    (`uniform enforced` or `last_wins`) and the proposal lets differ per vCPU (`uniform none`)
    with no `opt_in` capability.

    ## Why it matters
    Existing VMMs rely on the unification: they configure one vCPU and read the others back,
    or migrate one value for all. If the kernel starts accepting differing values by default,
    those VMMs silently build asymmetric guests.

    ## How to fix
    Gate the asymmetry behind an opt-in capability: `uniform none opt_in CAP`.
    """
    for old, new in comparison.pairs:
        if not (isinstance(old, m.Register | m.Feature) and isinstance(new, m.Register | m.Feature)):
            continue
        before, after = old.uniform, new.uniform
        if (
            before is not None
            and before.kind in ("enforced", "last_wins")
            and after is not None
            and after.kind == "none"
            and after.opt_in is None
        ):
            yield Problem(
                new.span,
                f"{new.name} was uniform across vCPUs ({describe(before)}) and may now differ per vCPU with no "
                "opt-in: existing VMMs that rely on every vCPU sharing it break",
                subject=subject(new),
                hint="gate the asymmetry behind a capability: `uniform none opt_in CAP`",
                related=(Related(after.span, "uniform none"), Related(before.span, "uniform in the baseline")),
            )


RULES = (implicit_uniformity_abi, asymmetry_without_opt_in)
