"""The cost model against the clock: a restore scenario run for real, beside its prediction.

The VMM's write plan is the model's own (`write_plan`): each `migrate yes` register the
generic (or hint-aware) VMM writes, once per vCPU or once. For each vCPU count, a fresh VM
gets its vCPUs, the saved values are read, and then every write of the plan is issued and
timed: the register writes are what a restore's blackout waits for. Lifecycle ioctls
(creating the VM and vCPUs) happen before the source stops and are not timed.

The transport is given (a `VmMaker`: this machine's /dev/kvm, or another), and so is which
registers it reaches; the model's side comes from `execute` on the same spec.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from validator.frontend.resolve import ResolvedSpec
from validator.model.frozen import frozen
from validator.simulate.scenario import (
    DEFAULT_IOCTL_NS,
    DEFAULT_LOCK_NS,
    DEFAULT_THREADS,
    Write,
    blackout_ns,
    execute,
    growth,
    phases_of,
    write_plan,
)

REPEATS = 7  # each count is timed this many times; the fastest run is kept (least disturbed)


class RegisterWriter(Protocol):
    def get(self, register_id: int) -> object: ...

    def set(self, register_id: int, value: int) -> object: ...


class Vm(Protocol):
    def create_vcpu(self) -> RegisterWriter: ...

    def close(self) -> None: ...


VmMaker = Callable[[], Vm]


@frozen
class Measured:
    vcpus: int
    writes: int  # register writes issued and timed
    wall_ns: int  # the fastest of REPEATS runs
    model_writes: int  # state ops the model counts at this vCPU count
    model_blackout_ns: int  # the model's estimate, with the scenario's (or default) costs

    @property
    def ns_per_write(self) -> int:
        return self.wall_ns // self.writes if self.writes else 0


@frozen
class Measurement:
    vmm: str
    registers: tuple[str, ...]  # the registers written, in plan order
    skipped: tuple[str, ...]  # registers of the plan no transport reaches
    points: tuple[Measured, ...]
    measured_growth: str
    model_growth: str


def measure_restore(
    spec: ResolvedSpec,
    counts: Sequence[int],
    make_vm: VmMaker,
    reachable: Callable[[int], bool],
    *,
    vmm: str = "generic",
    ioctl_ns: int = DEFAULT_IOCTL_NS,
    lock_ns: int = DEFAULT_LOCK_NS,
    threads: int = DEFAULT_THREADS,
) -> Measurement:
    plan = write_plan(spec, vmm)
    reached = [w for w in plan if w.register.id is not None and reachable(w.register.id) and w.per != "vm"]
    skipped = tuple(w.register.name for w in plan if w not in reached)
    phases = phases_of(spec, plan)
    points = []
    for count in counts if reached else ():  # nothing to time where the transport reaches nothing
        wall, writes = min(_timed_restore(make_vm, count, reached) for _ in range(REPEATS))
        metrics = execute(spec, "restore", vmm, count, phases=phases)
        points.append(
            Measured(count, writes, wall, metrics.state_ops, blackout_ns(metrics, ioctl_ns, lock_ns, threads))
        )
    return Measurement(
        vmm,
        tuple(w.register.name for w in reached),
        skipped,
        tuple(points),
        growth([(p.vcpus, p.wall_ns) for p in points]),
        growth([(p.vcpus, p.model_blackout_ns) for p in points]),
    )


def _timed_restore(make_vm: VmMaker, count: int, plan: list[Write]) -> tuple[int, int]:
    """(wall ns, writes) of one restore at `count` vCPUs on a fresh VM, closed afterwards."""
    vm = make_vm()
    try:
        return _restore(vm, count, plan)
    finally:
        vm.close()


def _restore(vm: Vm, count: int, plan: list[Write]) -> tuple[int, int]:
    vcpus = [vm.create_vcpu() for _ in range(count)]
    saved: dict[int, int] = {}
    for write in plan:
        register_id = write.register.id or 0
        saved[register_id] = getattr(vcpus[0].get(register_id), "value", None) or 0
    writes = 0
    start = time.perf_counter_ns()
    for write in plan:
        targets = vcpus if write.per == "vcpu" else vcpus[:1]
        register_id = write.register.id or 0
        value = saved[register_id]
        for vcpu in targets:
            vcpu.set(register_id, value)
            writes += 1
    return time.perf_counter_ns() - start, writes
