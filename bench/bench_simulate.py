"""Benchmark: a restore of 4096 vCPUs over a spec of 1000 registers (target: under 1 s).

Prints the figures; asserts nothing (speed targets are measured here, not in tests).
Run: python bench/bench_simulate.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from validator.frontend.load import load_text_unit
from validator.frontend.resolve import resolve
from validator.simulate.scenario import execute, run

REGISTERS, VCPUS = 1000, 4096


def spec_text(registers: int) -> str:
    """The attribute mix of spec/: per-VM state on the vCPU path under a VM lock, per-vCPU
    state, VM-fd state, frozen registers with identical rewrites accepted, bitmaps."""
    parts = [
        'api "bench/arm64" version "6.12"',
        "lock config_lock : vm",
        "lock vcpu_mutex : vcpu",
        "interface one_reg : vcpu {\n  get KVM_GET_ONE_REG\n  set KVM_SET_ONE_REG\n  list KVM_GET_REG_LIST\n  lock vcpu_mutex\n}",
        "interface vm_attr : vm {\n  get KVM_GET_DEVICE_ATTR\n  set KVM_SET_DEVICE_ATTR\n  has KVM_HAS_DEVICE_ATTR\n}",
    ]
    for i in range(registers):
        kind = i % 4
        scope = ("vm", "vcpu", "vm", "vcpu")[kind]
        via = "vm_attr" if kind == 2 else "one_reg"
        lock = "  lock config_lock\n" if kind == 0 else ""
        parts.append(
            f"register BENCH_REG_{i} {{\n  id 0x6030_0000_0020_{i:04x}\n  width 64\n  scope {scope}\n  via {via}\n{lock}"
            "  migrate yes\n  writable before first_run else EBUSY\n  rewrite same_value ok\n  uniform last_wins\n"
            "  reset all\n  reserved reject EINVAL\n  bits {\n    0 A\n    1 B\n  }\n}"
        )
    parts.append(f"scenario restore : restore {{\n  vcpus {VCPUS}\n  host_threads 16\n  cost ioctl 2us, lock 1us\n}}")
    return "\n".join(parts) + "\n"


def main() -> None:
    spec = resolve(load_text_unit(spec_text(REGISTERS), "bench.uapi"))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        metrics = execute(spec, "restore", "generic", VCPUS)
        best = min(best, time.perf_counter() - start)
    print(f"restore of {VCPUS} vCPUs over {REGISTERS} registers: {best * 1000:.1f} ms (target < 1000 ms)")
    print(
        f"  ops executed: {metrics.ioctls} ioctls, {metrics.state_ops} register writes, {metrics.serialized} serialized"
    )
    start = time.perf_counter()
    result = run(spec, spec.scenarios["restore"], (1, 64, 512, VCPUS))
    elapsed = time.perf_counter() - start
    print(f"simulate at 1, 64, 512 and {VCPUS} vCPUs: {elapsed * 1000:.1f} ms; blackout growth {result.growth}")
    small = min(64, VCPUS)
    start = time.perf_counter()
    execute(spec, "restore", "generic", small, grouped=False)
    per_op = time.perf_counter() - start
    print(
        f"op-by-op reference at {small} vCPUs: {per_op * 1000:.1f} ms "
        f"(about {per_op * VCPUS / small:.1f} s at {VCPUS} vCPUs without grouping)"
    )


if __name__ == "__main__":
    main()
