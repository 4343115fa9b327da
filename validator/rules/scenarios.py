"""X: the executable spec — scenarios run against the spec's semantics (validator.simulate.scenario)."""

from __future__ import annotations

from collections.abc import Iterator

from validator.frontend.resolve import ResolvedSpec
from validator.model.findings import ERROR, Problem, Related
from validator.model.spec import attr_span
from validator.rules.catalog import SCENARIO, rule
from validator.simulate.machine import Failure
from validator.simulate.scenario import ScenarioResult

_UNITS = {"serialized": "serialized writes", "ioctls": "ioctls", "blackout": "ns of estimated blackout"}


def _op(failure: Failure) -> str:
    where = f"on vCPU {failure.vcpu}" if failure.vcpu is not None else "on the VM"
    if failure.register is None:
        return f"{failure.op} {where}"
    return f"{failure.op} of {failure.register} = {failure.value:#x} {where}"


@rule("X701", "scenario-op-failed", ERROR, "an op a correct VMM issues in a scenario got an errno", stage=SCENARIO)
def scenario_op_failed(spec: ResolvedSpec, results: list[ScenarioResult]) -> Iterator[Problem]:
    """
    ## What it finds
    In a scenario, the first operation that a correct VMM issues (create a vCPU, set a
    register, enable a capability, run) that the spec's semantics refuse with an errno. The
    finding names the op, the vCPU, the register, the value and why.

    ## Why it matters
    This is the bug report a VMM author would file: the interface cannot be driven the way
    real VMMs drive it (restore, hotplug, replug, reset).

    ## How to fix
    Change the lifecycle the op hits (deadline, `rewrite same_value ok`, uniformity), or show
    the VMM model is wrong.
    """
    for result in results:
        first = result.first_failure
        if first is None:
            continue
        vcpus, failure = first
        scenario = result.scenario
        related = [Related(attr_span(scenario, "vmm"), f"VMM model {scenario.vmm or 'generic'}")]
        if failure.subject is not None:
            related.insert(0, Related(failure.subject.span, f"{failure.subject.name}: {failure.why}"))
        yield Problem(
            scenario.span,
            f"{scenario.kind} with {vcpus} vCPUs: {_op(failure)} got {failure.errno} ({failure.why})",
            subject=f"scenario/{scenario.name}",
            hint="accept what a VMM re-applies (e.g. `rewrite same_value ok`), or move the deadline",
            related=tuple(related),
        )


@rule("X702", "budget-exceeded", ERROR, "a scenario's budget is exceeded at some vCPU count", stage=SCENARIO)
def budget_exceeded(spec: ResolvedSpec, results: list[ScenarioResult]) -> Iterator[Problem]:
    """
    ## What it finds
    A scenario whose `budget` (serialized writes, ioctls, blackout) is exceeded at some vCPU
    count; the finding gives the count and the figure.

    ## Why it matters
    The budget is the design's cost contract: migration blackout that grows with the vCPU
    count is what the review thread on the arm64 firmware bitmaps was about.

    ## How to fix
    Reduce the per-vCPU work (VM-fd access, write_once with a hint) or justify a larger budget.
    """
    for result in results:
        if not result.overruns:
            continue
        scenario = result.scenario
        first = result.overruns[0]
        also = sorted({o.vcpus for o in result.overruns} - {first.vcpus})
        tail = f" (and at {', '.join(map(str, also))} vCPUs)" if also else ""
        yield Problem(
            scenario.span,
            f"{scenario.kind} with {first.vcpus} vCPUs: {first.figure} {_UNITS[first.what]}, over the budget of "
            f"{first.limit}{tail}; growth is {result.serialized_growth if first.what == 'serialized' else result.growth}",
            subject=f"scenario/{scenario.name}",
            hint="write VM state once (VM fd, or write_once with a hint), or justify a larger budget",
            related=(
                Related(
                    attr_span(scenario, "budget_" + ("blackout_ns" if first.what == "blackout" else first.what)),
                    "budget",
                ),
            ),
        )


RULES = (scenario_op_failed, budget_exceeded)
