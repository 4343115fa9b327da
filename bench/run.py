"""Measure uapi-validator against its targets, and against the YAML + JSON Schema peer.

Every figure runs in fresh processes (wall time and peak RSS), in interleaved rounds (ours,
then the peer, then ours again ...), printed as min / median / max. The check and the peer
are timed as whole processes, from start to exit, as a user waits for them: the check is the
command line (`python -m validator check`), which ends without freeing its model, and the
peer is a `python -c` that loads and validates and ends as Python ends (freeing its data):
  check (parse, resolve, all rules, scenarios, JSON written) at 1k, 10k and 100k registers;
  the peer: PyYAML's C loader + jsonschema validation on the same content;
  diff of two 10k specs differing in 1% of registers;
  simulate: a restore of 4096 vCPUs over 1000 registers;
  cold start: `check` of the bundled spec/kvm against `python -c pass`;
  the language server: a keystroke in a 1000-register document to its diagnostics
  (bench/lsp_keystroke.py); the model's bytes per register.

    pip install '.[bench]' && python bench/run.py [--sizes 1000,10000,100000] [--repeat 3]

Prints figures and ratios; asserts nothing (targets are in README.md and the issue notes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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


def once(workload: str | list[str], *, show_output: bool = False) -> dict[str, float]:
    """One fresh process running the workload: its wall time and peak RSS. A workload is
    Python code, timed inside the process, or a command, timed from start to exit."""
    if isinstance(workload, list):
        return whole_process(workload)
    done = subprocess.run([sys.executable, "-c", MEASURE, workload], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"workload failed:\n{workload}\n{done.stderr}")
    *printed, last = done.stdout.strip().splitlines()
    if show_output:
        print("\n".join(printed))
    return json.loads(last)


def whole_process(command: list[str]) -> dict[str, float]:
    """A command's wall time from its start to its exit, and its own peak RSS (wait4)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    errors = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"workload failed:\n{' '.join(command)}\n{errors}")
    return {"seconds": elapsed, "peak_mb": usage.ru_maxrss / 1024}


def interleaved(workloads: dict[str, str | list[str]], rounds: int) -> dict[str, list[dict[str, float]]]:
    """Each workload once per round, in turn, so that a load on the machine falls on all of
    them alike: the ratios between them hold even when the absolute figures do not."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in workloads}
    for _ in range(rounds):
        for name, workload in workloads.items():
            samples[name].append(once(workload))
    return samples


def spread(values: list[float], unit: str = "s", digits: int = 2) -> str:
    """min / median / max."""
    ordered = sorted(values)
    return " / ".join(f"{v:.{digits}f}" for v in (ordered[0], statistics.median(ordered), ordered[-1])) + f" {unit}"


def measure(workload: str, repeat: int, *, show_output: bool = False) -> dict[str, float]:
    """Best wall time and its peak RSS over `repeat` fresh processes (with `show_output`, what
    the workload printed is printed too)."""
    runs = [once(workload, show_output=show_output) for _ in range(repeat)]
    return min(runs, key=lambda figure: figure["seconds"])


def walls(command: list[str], rounds: int) -> list[float]:
    """Wall times of a whole command, from process start (a cold start), one per round."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def check_workload(root: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "validator",
        "check",
        str(root),
        "--format",
        "json",
        "-o",
        str(out),
        "--fail-on",
        "never",
    ]


def peer_workload(yaml_path: Path, schema: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        f"import json, yaml, jsonschema; data = yaml.load(open({str(yaml_path)!r}).read(), Loader=yaml.CSafeLoader); "
        f"jsonschema.Draft7Validator(json.load(open({str(schema)!r}))).validate(data)",
    ]


def model_bytes(root: Path) -> int:
    """What the loaded model of a spec holds (tracemalloc, after load)."""
    probe = (
        "import gc, sys, tracemalloc; gc.disable(); from validator.frontend.load import load_units; "
        f"tracemalloc.start(); units = load_units([{str(root)!r}]); print(tracemalloc.get_traced_memory()[0])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return int(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="uapi-validator benchmarks")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (default 5)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="uapi-bench-"))
    # As `pip install .` leaves it: an editable install, or PYTHONDONTWRITEBYTECODE, leaves no
    # bytecode, and every run would then compile the package before it starts (about 0.1 s).
    import compileall

    import validator

    compileall.compile_dir(str(Path(validator.__file__).parent), quiet=1)
    print(
        f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; figures min / median / max; "
        "the package's bytecode compiled first"
    )
    try:
        by_size = {}
        for size in sizes:
            folder = generate.write_uapi(work, size)
            yaml_path, schema = generate.write_yaml(work, size)
            megabytes = sum(p.stat().st_size for p in folder.glob("*.uapi")) / 1e6
            lines = sum(p.read_text().count("\n") for p in folder.glob("*.uapi"))
            rounds = args.repeat if size <= 10_000 else 1
            workloads: dict[str, str | list[str]] = {"ours": check_workload(folder / "root.uapi", work / "out.json")}
            workloads["peer"] = peer_workload(yaml_path, schema)
            samples = interleaved(workloads, rounds)
            ours, peer = samples["ours"], samples["peer"]
            ratios = [p["seconds"] / o["seconds"] for o, p in zip(ours, peer, strict=True)]
            by_size[size] = statistics.median(o["seconds"] for o in ours)
            print(
                f"check {size:>6} registers ({megabytes:.1f} MB, {lines} lines), {rounds} interleaved round(s): "
                f"{spread([o['seconds'] for o in ours])}, peak {max(o['peak_mb'] for o in ours):.0f} MB "
                f"| YAML+jsonschema {spread([p['seconds'] for p in peer])}, peak {max(p['peak_mb'] for p in peer):.0f} MB "
                f"| peer / ours per round {spread(ratios, 'x')} (target at 10k: >= 5x, < 1.0 s unloaded)"
            )
        if 10_000 in by_size and 100_000 in by_size:
            print(f"scaling: 100k takes {by_size[100_000] / by_size[10_000]:.1f}x the 10k time (linear is 10x)")
        ten = generate.write_uapi(work / "memory", 10_000) / "root.uapi"
        print(f"model of 10k registers after load: {model_bytes(ten) / 10_000:.0f} bytes per register")

        base = generate.write_uapi(work / "diff-base", 10_000)
        proposal = work / "diff-proposal" / "uapi-10000"
        shutil.copytree(base, proposal)
        changed = 0
        for part in sorted(proposal.glob("part*.uapi")):  # 1% of registers: a changed errno
            text = part.read_text()
            text = text.replace("writable before first_run else EBUSY", "writable before first_run else EPERM", 10)
            changed += 10
            part.write_text(text)
        diff_command = [sys.executable, "-m", "validator", "diff", str(base / "root.uapi"), str(proposal / "root.uapi")]
        diff_command += ["--format", "json", "-o", str(work / "diff.json"), "--fail-on", "never"]
        diff = interleaved({"diff": diff_command}, args.repeat)["diff"]
        print(
            f"diff of two 10k specs differing in {changed} registers (1%): {spread([d['seconds'] for d in diff])}, "
            f"peak {max(d['peak_mb'] for d in diff):.0f} MB"
        )

        simulate = measure(
            "import runpy, sys; sys.argv = ['bench_simulate']; "
            f"runpy.run_path({str(HERE / 'bench_simulate.py')!r}, run_name='__main__')",
            1,
            show_output=True,
        )
        print(f"simulate (bench_simulate.py, its own figures above): process {simulate['seconds']:.2f} s")

        subprocess.run([sys.executable, str(HERE / "lsp_keystroke.py"), "--rounds", "20"], cwd=work, check=True)

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
        rounds = max(args.repeat, 10)
        cold, bare = [], []
        for _ in range(rounds):  # interleaved, as above
            cold += walls(command, 1)
            bare += walls([sys.executable, "-c", "pass"], 1)
        own = [c - b for c, b in zip(cold, bare, strict=True)]
        print(
            f"cold start: check spec/kvm {spread(cold, digits=3)}; python -c pass {spread(bare, digits=3)}; "
            f"ours minus python's per round {spread(own, digits=3)} (target: within 0.15 s)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
