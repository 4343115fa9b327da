"""Measure uapi-validator against its targets, and against the YAML + JSON Schema peer.

Every figure runs in a fresh process (its wall time and peak RSS), best of N runs:
  check (parse, resolve, all rules, scenarios, JSON written) at 1k, 10k and 100k registers;
  the peer: PyYAML's C loader + jsonschema validation on the same content;
  diff of two 10k specs differing in 1% of registers;
  simulate: a restore of 4096 vCPUs over 1000 registers;
  cold start: `check` of the bundled spec/kvm against `python -c pass`.

    pip install '.[bench]' && python bench/run.py [--sizes 1000,10000,100000] [--repeat 3]

Prints figures and ratios; asserts nothing (targets are in README.md and the issue notes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (bench/generate.py, beside this file)

MEASURE = r"""
import json, resource, sys, time
start = time.perf_counter()
exec(compile(sys.argv[1], "<workload>", "exec"))
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(workload: str, repeat: int, *, show_output: bool = False) -> dict[str, float]:
    """Best wall time and its peak RSS over `repeat` fresh processes (with `show_output`, what
    the workload printed is printed too)."""
    best = None
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", MEASURE, workload], capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"workload failed:\n{workload}\n{done.stderr}")
        *printed, last = done.stdout.strip().splitlines()
        if show_output:
            print("\n".join(printed))
        figure = json.loads(last)
        best = figure if best is None or figure["seconds"] < best["seconds"] else best
    return best  # type: ignore[return-value]


def wall(command: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    """Best wall time of a whole command, from process start (a cold start)."""
    import os
    import time

    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, cwd=ROOT, env={**os.environ, **(env or {})})
        best = min(best, time.perf_counter() - start)
    return best


def check_workload(root: Path, out: Path) -> str:
    return (
        f"from validator.cli import main; main(['check', {str(root)!r}, '--format', 'json', "
        f"'-o', {str(out)!r}, '--fail-on', 'never'])"
    )


def peer_workload(yaml_path: Path, schema: Path) -> str:
    return (
        f"import json, yaml, jsonschema; data = yaml.load(open({str(yaml_path)!r}).read(), Loader=yaml.CSafeLoader); "
        f"jsonschema.Draft7Validator(json.load(open({str(schema)!r}))).validate(data)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="uapi-validator benchmarks")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="uapi-bench-"))
    try:
        rows = []
        for size in sizes:
            folder = generate.write_uapi(work, size)
            yaml_path, schema = generate.write_yaml(work, size)
            megabytes = sum(p.stat().st_size for p in folder.glob("*.uapi")) / 1e6
            lines = sum(p.read_text().count("\n") for p in folder.glob("*.uapi"))
            repeat = args.repeat if size <= 10_000 else 1
            ours = measure(check_workload(folder / "root.uapi", work / "out.json"), repeat)
            peer = measure(peer_workload(yaml_path, schema), repeat)
            rows.append((size, megabytes, lines, ours, peer))
            print(
                f"check {size:>6} registers ({megabytes:.1f} MB, {lines} lines): {ours['seconds']:.2f} s, "
                f"peak {ours['peak_mb']:.0f} MB | YAML+jsonschema {peer['seconds']:.2f} s, peak {peer['peak_mb']:.0f} MB "
                f"| {peer['seconds'] / ours['seconds']:.2f}x faster than the peer"
            )
        by_size = {size: ours["seconds"] for size, _, _, ours, _ in rows}
        if 10_000 in by_size and 100_000 in by_size:
            print(
                f"scaling: 100k takes {by_size[100_000] / by_size[10_000]:.1f}x the 10k time (linear is 10x; target < 12x)"
            )
        if 1_000 in by_size and 10_000 in by_size:
            print(f"scaling: 10k takes {by_size[10_000] / by_size[1_000]:.1f}x the 1k time")

        base = generate.write_uapi(work / "diff-base", 10_000)
        proposal = work / "diff-proposal" / "uapi-10000"
        shutil.copytree(base, proposal)
        changed = 0
        for part in sorted(proposal.glob("part*.uapi")):  # 1% of registers: a changed errno
            text = part.read_text()
            text = text.replace("writable before first_run else EBUSY", "writable before first_run else EPERM", 10)
            changed += 10
            part.write_text(text)
        diff = measure(
            f"from validator.cli import main; main(['diff', {str(base / 'root.uapi')!r}, "
            f"{str(proposal / 'root.uapi')!r}, '--format', 'json', '-o', {str(work / 'diff.json')!r}])",
            args.repeat,
        )
        print(
            f"diff of two 10k specs differing in {changed} registers (1%): {diff['seconds']:.2f} s, peak {diff['peak_mb']:.0f} MB"
        )

        simulate = measure(
            "import runpy, sys; sys.argv = ['bench_simulate']; "
            f"runpy.run_path({str(HERE / 'bench_simulate.py')!r}, run_name='__main__')",
            1,
            show_output=True,
        )
        print(f"simulate (bench_simulate.py, its own figures above): process {simulate['seconds']:.2f} s")

        command = [
            sys.executable,
            "-m",
            "validator",
            "check",
            "spec/kvm",
            "--format",
            "json",
            "-o",
            str(work / "c.json"),
        ]
        cold = wall(command, max(args.repeat, 5))
        # The first run on a machine builds the grammar's tables before it keeps them.
        uncached = wall(command, max(args.repeat, 5), env={"UAPI_VALIDATOR_NO_CACHE": "1"})
        bare = wall([sys.executable, "-c", "pass"], max(args.repeat, 5))
        print(
            f"cold start: check spec/kvm {cold:.3f} s (target < 0.35 s); python -c pass {bare:.3f} s; "
            f"{cold - bare:.3f} s of our own; without the grammar cache (a first run) {uncached:.3f} s"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
