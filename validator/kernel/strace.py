"""A VMM's KVM ioctls as `strace -f -e trace=ioctl` (with or without `-v`, `openat` or
`clone` traced too) logs them, each attributed to the fd kind it went to.

The kind of an fd is learnt from the calls that make one: `openat("/dev/kvm") = N` (else the
fd `KVM_GET_API_VERSION` or `KVM_CREATE_VM` is issued on) is a system fd, `KVM_CREATE_VM`
returns a VM fd, `KVM_CREATE_VCPU` a vCPU fd. Threads share their process's fds; a child
made by `clone` without `CLONE_THREAD` (or `fork`) starts with a copy of its parent's, as the
kernel does; without `clone` in the trace every line is one process. An fd that no such call
made is `unknown`.

strace's own lines are data from a stranger: a line that does not parse is skipped and
counted, never an error, and the reader holds one line at a time.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from validator.model.frozen import frozen

SCOPES = ("system", "vm", "vcpu", "device", "unknown")
MAX_LINE = 1 << 20  # strace -v writes long structs; a longer line is skipped

# PID, then optional timestamps (-t, -tt, -ttt, -r), then the call.
_PREFIX = r"^(?:\[pid\s+)?(?P<pid>\d+)\]?\s+(?:\d+(?:[:.]\d+)*\s+)?"
_IOCTL_ARGS = re.compile(r"^(?P<fd>\d+), (?P<request>[A-Za-z0-9_]+)")  # what follows `ioctl(`
_RESUMED = re.compile(_PREFIX + r"<\.\.\. (?P<call>\w+) resumed>(?P<rest>.*)\)\s+= (?P<result>.*)$")
_UNFINISHED = re.compile(_PREFIX + r"(?P<call>\w+)\((?P<head>.*) <unfinished \.\.\.>$")
_OPEN = re.compile(r'^(?:open|openat)\((?:AT_FDCWD, |\d+, )?"(?P<path>[^"]*)"')
_CLONE = re.compile(r"^(?:clone3?|fork|vfork)\((?P<args>.*)$")
_RESULT = re.compile(r"^(?P<value>-?\d+|0x[0-9a-f]+|\?)(?: (?P<errno>E[A-Z0-9]+))?")
_DURATION = re.compile(r"<(?P<seconds>\d+\.\d+)>\s*$")
_CALL = re.compile(_PREFIX + r"(?P<call>\w+)\((?P<rest>.*)\)\s+= (?P<result>.*)$")


@frozen
class Call:
    """One KVM ioctl: who issued it, on what, and what it returned."""

    pid: int
    fd: int
    scope: str  # the fd's kind: system | vm | vcpu | device | unknown
    request: str  # as strace names it (KVM_SET_MSRS), or its _IOC number
    result: int | None  # None: strace could not tell (`?`)
    errno: str | None  # EINVAL ... when the call failed
    line: int  # in the trace
    seconds: float | None = None  # the time in the call (`strace -T`)


@dataclass
class Trace:
    """Every KVM ioctl of a trace, in order, and what could not be read."""

    calls: list[Call] = field(default_factory=list)
    skipped: int = 0  # lines that did not parse (strace's own messages, signals, exits)
    vcpus: int = 0  # vCPU fds created

    def counts(self) -> dict[str, Counter[str]]:
        """Per ioctl, the number of calls by fd kind."""
        found: dict[str, Counter[str]] = {}
        for call in self.calls:
            found.setdefault(call.request, Counter())[call.scope] += 1
        return found


@dataclass
class _Process:
    fds: dict[int, str] = field(default_factory=dict)


def read_trace(lines: Iterable[str]) -> Trace:
    """The KVM ioctls of an strace log, attributed to their fds' kinds."""
    trace = Trace()
    process_of: dict[int, _Process] = {}
    pending: dict[int, str] = {}  # pid -> the head of its unfinished call
    first: _Process | None = None
    for number, raw in enumerate(lines, 1):
        if len(raw) > MAX_LINE:
            trace.skipped += 1
            continue
        line = raw.rstrip("\n")
        unfinished = _UNFINISHED.match(line)
        if unfinished:
            pending[int(unfinished["pid"])] = f"{unfinished['call']}({unfinished['head']}"
            continue
        resumed = _RESUMED.match(line)
        if resumed:
            head = pending.pop(int(resumed["pid"]), None)
            if head is None:
                trace.skipped += 1
                continue
            line = f"{resumed['pid']} {head}{resumed['rest']}) = {resumed['result']}"
        call = _CALL.match(line)
        if call is None:
            trace.skipped += 1
            continue
        pid = int(call["pid"])
        # A pid first seen before (or without) the clone that made it: a thread of the
        # first process (strace may print a new thread's call before clone's return).
        process = process_of.get(pid) or process_of.setdefault(pid, first or _Process())
        first = first or process
        result = _RESULT.match(call["result"])
        value = int(result["value"], 0) if result and result["value"] != "?" else None
        errno = result["errno"] if result else None
        name = call["call"]
        if name in ("open", "openat"):
            opened = _OPEN.match(f"{name}({call['rest']}")
            if opened and opened["path"] == "/dev/kvm" and value is not None and value >= 0:
                process.fds[value] = "system"
            elif value is not None and value >= 0:
                process.fds.pop(value, None)  # another file took the number
            continue
        if name in ("clone", "clone3", "fork", "vfork"):
            if value is not None and value > 0:
                threaded = "CLONE_THREAD" in call["rest"]
                process_of[value] = process if threaded else _Process(dict(process.fds))
            continue
        if name == "close":
            fd = call["rest"].strip()
            if fd.isdigit():
                process.fds.pop(int(fd), None)
            continue
        if name != "ioctl":
            continue
        ioctl = _IOCTL_ARGS.match(call["rest"])
        if ioctl is None or not ioctl["request"].startswith(("KVM_", "_IOC")):
            continue
        fd, request = int(ioctl["fd"]), ioctl["request"]
        if request in ("KVM_CREATE_VM", "KVM_GET_API_VERSION") and fd not in process.fds:
            process.fds[fd] = "system"
        scope = process.fds.get(fd, "unknown")
        took = _DURATION.search(call["result"])
        seconds = float(took["seconds"]) if took else None
        trace.calls.append(Call(pid, fd, scope, request, value, errno, number, seconds))
        if errno is None and value is not None and value >= 0:
            if request == "KVM_CREATE_VM":
                process.fds[value] = "vm"
            elif request == "KVM_CREATE_VCPU":
                process.fds[value] = "vcpu"
                trace.vcpus += 1
    return trace
