"""The cost model against the clock, for the bundled x86 spec: VM-scoped MSRs written per vCPU
(spec/kvm/x86/clocks.uapi: the two wall clocks, which every vCPU rewrites) against per-vCPU
MSRs (syscall.uapi), measured on this machine's /dev/kvm at 1 to 64 vCPUs.

    python bench/measure_restore.py [--vcpus 1,2,4,8,16,32,64]

Prints the measured figures beside the model's, and the ioctl cost that would calibrate the
model (`cost ioctl` in a scenario): the median time per write. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vcpus", default="1,2,4,8,16,32,64")
    args = parser.parse_args()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "validator",
            "simulate",
            "spec/kvm/x86",
            "--measure",
            "--vcpus",
            args.vcpus,
            "--format",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(result.stderr.strip(), file=sys.stderr)
        return result.returncode
    document = json.loads(result.stdout)
    print(document["kernel"])
    for measurement in document["measurements"]:
        points = measurement["points"]
        if not points:  # nothing this transport writes (the CPUID table)
            continue
        per_write = statistics.median(p["ns_per_write"] for p in points)
        print(f"\n{measurement['path']}: {', '.join(measurement['registers'])}")
        print(f"{'vCPUs':>6} {'writes':>7} {'wall us':>9} {'model us':>9} {'wall/model':>10}")
        for p in points:
            ratio = p["wall_ns"] / p["model_blackout_ns"] if p["model_blackout_ns"] else float("nan")
            print(
                f"{p['vcpus']:>6} {p['writes']:>7} {p['wall_ns'] / 1000:>9.1f} {p['model_blackout_ns'] / 1000:>9.1f} {ratio:>10.2f}"
            )
        growth = measurement["growth"]
        print(
            f"growth: measured {growth['measured']}, model {growth['model']}; median {per_write / 1000:.1f} us a write"
        )
        print(f"calibrate: a scenario with `cost ioctl {round(per_write / 1000)}us` reproduces these figures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
