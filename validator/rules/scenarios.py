"""X: the executable spec — scenarios run against the spec's semantics."""

from __future__ import annotations

from validator.catalog import SCENARIO, reported_by
from validator.findings import ERROR

_IMPLEMENTED = False  # the executable spec lands with issue 5

SCENARIO_OP_FAILED = reported_by(
    SCENARIO,
    "X701",
    "scenario-op-failed",
    ERROR,
    "an op a correct VMM issues in a scenario got an errno",
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
    """,
    implemented=_IMPLEMENTED,
)

BUDGET_EXCEEDED = reported_by(
    SCENARIO,
    "X702",
    "budget-exceeded",
    ERROR,
    "a scenario's budget is exceeded at some vCPU count",
    """
    ## What it finds
    A scenario whose `budget` (serialized writes, ioctls, blackout) is exceeded at some vCPU
    count; the finding gives the count and the figure.

    ## Why it matters
    The budget is the design's cost contract: migration blackout that grows with the vCPU
    count is what the review thread on the arm64 firmware bitmaps was about.

    ## How to fix
    Reduce the per-vCPU work (VM-fd access, write_once with a hint) or justify a larger budget.
    """,
    implemented=_IMPLEMENTED,
)

RULES = (SCENARIO_OP_FAILED, BUDGET_EXCEEDED)
