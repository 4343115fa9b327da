"""QEMU's restore on this machine's KVM, measured and set beside the model of the bundled x86
spec, at -smp 1, 2, 4, 8, 16, 32 and 64 (vCPUs need not run: the guest stays paused).

For each count: a paused q35 guest is migrated to a file; a second QEMU restores it under
`strace -f -ttt -T -e trace=ioctl,openat`, and QMP's `query-migrate` is polled until the
incoming migration completes. The trace is cut at that moment (what QEMU does afterwards,
quitting, is not the restore) and read by `uapi-validator trace`'s reader. Printed per count:
the restore's wall time (QEMU's start to completion), KVM ioctls by fd kind, and per ioctl the
model's prediction beside what QEMU issued; then the growth class of each.

    python bench/qemu_restore.py [--smp 1,2,4,8,16,32,64] [--spec spec/kvm/x86]

Needs qemu-system-x86_64, strace and a usable /dev/kvm.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# -cpu host less arch-capabilities: Linux 6.18 refuses QEMU 7.2's MSR 0x10a value on this
# (nested) host, and QEMU aborts on the refusal.
QEMU = [
    "qemu-system-x86_64",
    "-enable-kvm",
    "-machine",
    "q35",
    "-cpu",
    "host,-arch-capabilities",
    "-m",
    "64",
    "-nographic",
    "-nodefaults",
    "-display",
    "none",
    "-S",
]


def missing() -> str | None:
    """Why QEMU cannot be measured here, or None."""
    for tool in ("qemu-system-x86_64", "strace"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not usable"
    return None


def save(vcpus: int, state: Path) -> None:
    """A paused guest with `vcpus` vCPUs, migrated to `state`."""
    commands = f'migrate "exec:cat > {state}"\nquit\n'
    done = subprocess.run(
        [*QEMU, "-smp", str(vcpus), "-monitor", "stdio"], input=commands, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0 or not state.exists() or state.stat().st_size == 0:
        raise RuntimeError(f"QEMU could not save a {vcpus}-vCPU guest: {done.stdout[-300:]}{done.stderr[-300:]}")


def restore_traced(vcpus: int, state: Path, trace: Path) -> float:
    """Restore `state` under strace; the seconds from QEMU's start to the end of the incoming
    migration. The trace file keeps only the lines up to that moment."""
    folder = Path(tempfile.mkdtemp(prefix="uapi-qmp-"))
    sock = folder / "qmp.sock"
    raw = folder / "trace.txt"
    strace = ["strace", "-f", "-qq", "-ttt", "-T", "-e", "trace=ioctl,openat,clone,clone3", "-o", str(raw)]
    qemu = [*QEMU, "-smp", str(vcpus), "-monitor", "none", "-serial", "none"]
    qemu += ["-qmp", f"unix:{sock},server=on,wait=off", "-incoming", f"exec:cat {state}"]
    started = time.time()
    process = subprocess.Popen([*strace, *qemu], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with _qmp(sock, process) as ask:
            while (status := ask("query-migrate").get("status")) not in ("completed", "failed"):
                time.sleep(0.002)
            finished = time.time()
            if status != "completed":
                raise RuntimeError(f"the incoming migration of {vcpus} vCPUs failed")
            ask("quit")
        process.wait(timeout=60)
    finally:
        process.kill()
        process.wait()
    with raw.open() as source, trace.open("w") as kept:
        for line in source:
            parts = line.split(maxsplit=2)
            if len(parts) > 1 and parts[1].replace(".", "", 1).isdigit() and float(parts[1]) > finished:
                break
            kept.write(line)
    shutil.rmtree(folder, ignore_errors=True)
    return finished - started


@contextlib.contextmanager
def _qmp(sock: Path, process: subprocess.Popen) -> Iterator:
    deadline = time.time() + 60
    connection = socket.socket(socket.AF_UNIX)
    while True:
        try:
            connection.connect(str(sock))
            break
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                raise RuntimeError(f"QEMU's QMP socket did not open: {process.stderr.read()[-300:]!r}") from None
            time.sleep(0.005)
    stream = connection.makefile("rw")

    def reply() -> dict:
        while True:
            message = json.loads(stream.readline())
            if "event" not in message:
                return message

    def ask(command: str) -> dict:
        stream.write(json.dumps({"execute": command}) + "\n")
        stream.flush()
        return reply().get("return", {})

    reply()  # the greeting
    ask("qmp_capabilities")
    try:
        yield ask
    finally:
        connection.close()


def main() -> None:
    from validator.commands.trace import trace_spec
    from validator.kernel.strace import read_trace
    from validator.pipeline.observed import compare_trace
    from validator.simulate.scenario import growth

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smp", default="1,2,4,8,16,32,64")
    parser.add_argument("--spec", default=str(ROOT / "spec" / "kvm" / "x86"))
    args = parser.parse_args()
    why = missing()
    if why:
        raise SystemExit(f"cannot measure QEMU here: {why}")
    version = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(f"{version}; Linux {os.uname().release}; {os.cpu_count()} host CPUs")
    spec = trace_spec(args.spec)
    work = Path(tempfile.mkdtemp(prefix="uapi-qemu-"))
    watched = ("KVM_SET_MSRS", "KVM_SET_CPUID2", "KVM_SET_TSC_KHZ", "KVM_SET_XSAVE", "KVM_SET_REGS")
    rows = []
    try:
        for vcpus in (int(n) for n in args.smp.split(",")):
            state, trace_file = work / f"state-{vcpus}", work / f"trace-{vcpus}.txt"
            save(vcpus, state)
            seconds = restore_traced(vcpus, state, trace_file)
            with trace_file.open() as lines:
                trace = read_trace(lines)
            compared = compare_trace(spec, trace)
            by_fd: dict[str, int] = {}
            for call in trace.calls:
                by_fd[call.scope] = by_fd.get(call.scope, 0) + 1
            in_kvm = sum(c.seconds or 0 for c in trace.calls)
            pairs = {
                ioctl: (sum(compared.model.get(ioctl, {}).values()), sum(compared.observed.get(ioctl, {}).values()))
                for ioctl in watched
            }
            rows.append((vcpus, seconds, in_kvm, by_fd, pairs))
            figures = ", ".join(f"{ioctl} {p}/{o}" for ioctl, (p, o) in pairs.items())
            print(
                f"-smp {vcpus:>2}: restore {seconds:.3f} s ({in_kvm * 1000:.1f} ms inside KVM ioctls); "
                f"KVM ioctls {sum(by_fd.values())} ({', '.join(f'{n} {fd}' for fd, n in sorted(by_fd.items()))}); "
                f"predicted/observed {figures}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"growth of the restore's wall time: {growth([(v, round(s * 1e6)) for v, s, *_ in rows])}")
    print(f"growth of the time inside KVM ioctls: {growth([(v, round(k * 1e6)) for v, _, k, *_ in rows])}")
    for fd in ("system", "vm", "vcpu"):
        print(f"growth of the ioctls on {fd} fds: {growth([(v, f.get(fd, 0)) for v, _, _, f, _ in rows])}")
    for ioctl in watched:
        model = growth([(v, p[ioctl][0]) for v, *_, p in rows])
        qemu = growth([(v, p[ioctl][1]) for v, *_, p in rows])
        ratios = sorted({p[ioctl][1] / p[ioctl][0] for *_, p in rows if p[ioctl][0]})
        ratio = f"; QEMU / model: {', '.join(f'{r:g}' for r in ratios)}" if ratios else ""
        print(f"{ioctl}: model {model}, QEMU {qemu}{ratio}")


if __name__ == "__main__":
    main()
