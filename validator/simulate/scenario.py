"""Scenarios: VMM models drive the reference machine, and what a design costs is measured.

VMM models (LANGUAGE.md): `generic` writes every `migrate yes` register, walking every
enumerable interface on every vCPU and writing the rest with dedicated code once per fd of
its interface's scope; `hint_aware` also writes a `write_once` register whose hint
capability exists once per VM, through the first vCPU.

Kinds: `restore` (a fresh VM, every vCPU created and restored, then run); `hotplug` (the VM
ran; one new vCPU is created and restored); `replug` (the VM ran; one vCPU that ran is
written again); `reset` (the VM ran; every vCPU is re-initialised and written again). VM-fd
state is written by restores only: the other kinds keep the VM.

Estimated blackout, the documented model: state ops (register writes, capability enables)
that take a VM-scoped lock form one queue, each costing ioctl + lock; the others run in
parallel over `host_threads`, each costing ioctl:

    blackout = serialized x (ioctl + lock) + ceil(parallel / host_threads) x ioctl

Lifecycle ioctls (create, init, run) are counted in `ioctls` but not in the blackout: they
happen before the source VM stops, or in parallel with nothing to wait for.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from validator.frontend.resolve import ResolvedSpec
from validator.model import spec as m
from validator.model.frozen import frozen
from validator.simulate.machine import Failure, Group, Machine, Metrics, SpecFacts

DEFAULT_VCPUS = (1, 8, 64, 512)
DEFAULT_IOCTL_NS = 2_000
DEFAULT_LOCK_NS = 1_000
DEFAULT_THREADS = 1
KINDS = ("restore", "hotplug", "replug", "reset")
VMMS = ("generic", "hint_aware")
_EARLY = ("vm_create", "vcpu_create", "vcpu_init", "finalize")  # deadlines written before finalize


@frozen
class Write:
    """One register a VMM restores, the interface it uses, and how often."""

    register: m.Register
    interface: m.Interface
    per: str  # vcpu: on every vCPU | vm: once on a VM-wide fd | once: once, through the first vCPU


@frozen
class Point:
    """A scenario's figures at one vCPU count."""

    vcpus: int
    ioctls: int
    state_ops: int
    serialized: int
    vm_lock_acquisitions: int
    blackout_ns: int
    failures: tuple[Failure, ...]


@frozen
class Overrun:
    """A figure over the scenario's budget, at one vCPU count."""

    vcpus: int
    what: str  # serialized | ioctls | blackout
    figure: int
    limit: int


@frozen
class ScenarioResult:
    """A scenario's figures at each vCPU count, how they grow, and its overruns."""

    scenario: m.Scenario
    points: tuple[Point, ...]
    growth: str  # of the estimated blackout
    serialized_growth: str
    overruns: tuple[Overrun, ...]
    trace: tuple[str, ...] = ()

    @property
    def first_failure(self) -> tuple[int, Failure] | None:
        for point in self.points:
            if point.failures:
                return point.vcpus, point.failures[0]
        return None


def write_plan(spec: ResolvedSpec, vmm: str) -> list[Write]:
    plan = []
    for register in spec.registers.values():
        interface = spec.generic_path(register)
        if not register.migrate or interface is None:
            continue
        if (
            vmm == "hint_aware"
            and register.scope == "write_once"
            and spec.hint_capability(register)
            and interface.scope == "vcpu"
        ):
            per = "once"
        else:
            per = "vcpu" if interface.scope == "vcpu" else "vm"
        plan.append(Write(register, interface, per))
    return plan


def _is_early(register: m.Register) -> bool:
    writable = register.writable
    return writable is not None and writable.kind == "before" and writable.event in _EARLY


def _before_vcpus(spec: ResolvedSpec, write: Write) -> bool:
    """A VM setting a VMM makes before it creates vCPUs (LANGUAGE.md's restore order)."""
    return write.per == "vm" and spec.set_before_vcpus(write.register)


def _write_all(machine: Machine, groups: list[Group], plan: list[Write], *, vm_state: bool) -> None:
    machine.begin_pass()
    for write in plan:  # each register's saved value (set_register's default)
        if write.per == "vcpu":
            for group in groups:
                machine.set_register(group, write.register, write.interface)
        elif vm_state and write.per == "once":
            first = groups[0]
            machine.set_register(Group(first.members[:1], first.events, first.values), write.register, write.interface)
        elif vm_state:
            machine.set_register(groups[0], write.register, write.interface)


class Phases(NamedTuple):
    """A write plan in the order a VMM restores it (LANGUAGE.md's restore order): VM settings
    before any vCPU exists, early state, finalize (where a register waits for it), the rest."""

    first: list[Write]
    early: list[Write]
    late: list[Write]
    finalize: bool


def phases_of(spec: ResolvedSpec, plan: list[Write]) -> Phases:
    rest = [w for w in plan if not _before_vcpus(spec, w)]
    return Phases(
        [w for w in plan if _before_vcpus(spec, w)],
        [w for w in rest if _is_early(w.register)],
        [w for w in rest if not _is_early(w.register)],
        any(r.writable and r.writable.event == "finalize" for r in spec.registers.values()),
    )


def _bring_up(machine: Machine, groups: list[Group], phases: Phases, *, vm_state: bool) -> None:
    """Initialise, write early state, finalize, write the rest, run."""
    for group in groups:
        machine.init(group)
    _write_all(machine, groups, phases.early, vm_state=vm_state)
    if phases.finalize:
        for group in groups:
            machine.finalize(group)
    _write_all(machine, groups, phases.late, vm_state=vm_state)
    for group in groups:
        machine.run(group)


def execute(
    spec: ResolvedSpec,
    kind: str,
    vmm: str,
    vcpus: int,
    *,
    grouped: bool = True,
    trace: bool = False,
    facts: SpecFacts | None = None,
    phases: Phases | None = None,
) -> Metrics:
    """Run one scenario kind at one vCPU count; the metrics of the counted part.

    `phases` (the VMM's write plan, `phases_of(spec, write_plan(spec, vmm))` where not given)
    and `facts` let the runs of one scenario at several counts share what they would each
    work out alike.
    """
    machine = Machine(spec, grouped=grouped, trace=trace, facts=facts)
    if phases is None:
        phases = phases_of(spec, write_plan(spec, vmm))
    machine.create_vm()
    for cap in spec.capabilities.values():
        if isinstance(cap, m.Capability) and cap.kind == "opt_in":
            machine.enable_cap(cap)
    _write_all(machine, [Group(range(0))], phases.first, vm_state=True)  # VM settings, before any vCPU exists
    groups = machine.create_vcpus(vcpus)
    if kind == "restore":
        _bring_up(machine, groups, phases, vm_state=True)
        return machine.metrics
    _bring_up(machine, groups, phases, vm_state=True)  # the VM as it ran, not counted
    machine.metrics = Metrics(trace=[] if trace else None)
    if kind == "hotplug":
        _bring_up(machine, machine.create_vcpus(1), phases, vm_state=False)
    elif kind == "replug":
        replugged = groups[0].split() if len(groups[0].members) > 1 else groups[0]
        _bring_up(machine, [replugged], phases, vm_state=False)
    else:  # reset
        _bring_up(machine, groups, phases, vm_state=False)
    return machine.metrics


def blackout_ns(metrics: Metrics, ioctl_ns: int, lock_ns: int, threads: int) -> int:
    return metrics.serialized * (ioctl_ns + lock_ns) + math.ceil(metrics.parallel / threads) * ioctl_ns


def growth(points: list[tuple[int, int]]) -> str:
    """constant, linear, sublinear or superlinear, fitted from (vCPUs, figure) points."""
    points = sorted(set(points))
    if len(points) < 2:
        return "unknown"
    ys = [y for _, y in points]
    if max(ys) - min(ys) <= 0.01 * max(max(ys), 1):
        return "constant"
    (x0, y0), (x1, y1) = points[0], points[-1]
    slope = (y1 - y0) / (x1 - x0)
    tolerance = 0.05 * max(abs(y) for y in ys)
    deviations = [y - (y0 + slope * (x - x0)) for x, y in points[1:-1]]
    if all(abs(d) <= tolerance for d in deviations):
        return "linear"
    return "superlinear" if all(d < 0 for d in deviations) else "sublinear"


def run(
    spec: ResolvedSpec,
    scenario: m.Scenario,
    vcpus: tuple[int, ...] | None = None,
    *,
    trace: bool = False,
    facts: SpecFacts | None = None,
) -> ScenarioResult:
    """One scenario at each of its vCPU counts; `facts`: the registers' write facts, shared by
    the scenarios of one spec (they depend on the spec alone)."""
    counts = tuple(sorted(set(vcpus or scenario.vcpus or DEFAULT_VCPUS)))
    vmm = scenario.vmm or "generic"
    ioctl_ns = scenario.cost_ioctl_ns if scenario.cost_ioctl_ns is not None else DEFAULT_IOCTL_NS
    lock_ns = scenario.cost_lock_ns if scenario.cost_lock_ns is not None else DEFAULT_LOCK_NS
    threads = scenario.host_threads or DEFAULT_THREADS
    points, overruns = [], []
    phases = phases_of(spec, write_plan(spec, vmm))
    facts = SpecFacts() if facts is None else facts
    for count in counts:
        metrics = execute(spec, scenario.kind, vmm, count, facts=facts, phases=phases)
        point = Point(
            count,
            metrics.ioctls,
            metrics.state_ops,
            metrics.serialized,
            metrics.locks["vm"],
            blackout_ns(metrics, ioctl_ns, lock_ns, threads),
            tuple(metrics.failures),
        )
        points.append(point)
        for what, figure, limit in (
            ("serialized", point.serialized, scenario.budget_serialized),
            ("ioctls", point.ioctls, scenario.budget_ioctls),
            ("blackout", point.blackout_ns, scenario.budget_blackout_ns),
        ):
            if limit is not None and figure > limit:
                overruns.append(Overrun(count, what, figure, limit))
    steps: tuple[str, ...] = ()
    if trace:
        steps = tuple(execute(spec, scenario.kind, vmm, counts[0], grouped=False, trace=True).trace or ())
    return ScenarioResult(
        scenario,
        tuple(points),
        growth([(p.vcpus, p.blackout_ns) for p in points]),
        growth([(p.vcpus, p.serialized) for p in points]),
        tuple(overruns),
        steps,
    )


def run_all(spec: ResolvedSpec) -> list[ScenarioResult]:
    facts = SpecFacts()
    return [run(spec, scenario, facts=facts) for scenario in spec.scenarios.values()]
