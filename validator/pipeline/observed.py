"""A VMM's real restore (an strace log, validator.kernel.strace) set beside the spec's model
of the same restore at the same vCPU count.

Per interface of the spec: the ioctls the model predicts and those the VMM issued, by the
fd they went to; the model's serialized writes through it; the interfaces the model writes
registers through that the VMM never set (and the reverse). Each failed ioctl is matched to
the spec claim that explains it (a deadline, a rewrite or reserved-bits errno, an argument
check, a capability deadline) or reported as unexplained. KVM ioctls no interface names are
listed: what of the VMM's restore the spec does not describe yet.
"""

from __future__ import annotations

from collections import Counter

from validator.frontend.resolve import ResolvedSpec
from validator.kernel.strace import SCOPES, Trace
from validator.model import spec as m
from validator.model.frozen import frozen
from validator.model.spans import Span
from validator.simulate.scenario import execute

Counts = dict[str, dict[str, int]]  # ioctl -> fd kind -> calls


@frozen
class InterfaceRow:
    interface: m.Interface
    predicted: Counts
    observed: Counts
    serialized: int  # the model's writes through it under a VM-scoped lock
    registers: tuple[str, ...]  # what the model writes through it

    @property
    def predicted_total(self) -> int:
        return sum(n for by_fd in self.predicted.values() for n in by_fd.values())

    @property
    def observed_total(self) -> int:
        return sum(n for by_fd in self.observed.values() for n in by_fd.values())

    @property
    def set_ioctl(self) -> str | None:
        return self.interface.ioctl("set")

    @property
    def untouched(self) -> bool:
        """The model writes registers through it; the VMM never issued its set ioctl."""
        return bool(self.registers) and not self.observed.get(self.set_ioctl or "", {})

    @property
    def vmm_only(self) -> bool:
        """The VMM issued its set ioctl; the model writes nothing through it."""
        return not self.registers and bool(self.observed.get(self.set_ioctl or "", {}))


@frozen
class ObservedError:
    ioctl: str
    scope: str
    errno: str
    count: int
    first_line: int  # in the trace
    claim: str | None  # the spec claim that explains it, in the language's words
    where: Span | None


@frozen
class TraceComparison:
    vcpus: int
    vmm: str
    observed: Counts
    model: Counts
    interfaces: tuple[InterfaceRow, ...]
    errors: tuple[ObservedError, ...]
    unmapped: Counts  # KVM ioctls of the trace no interface names
    skipped_lines: int


def compare_trace(spec: ResolvedSpec, trace: Trace, vmm: str | None = None) -> TraceComparison:
    """The trace beside the model's restore at the trace's vCPU count (the spec's restore
    scenario's VMM model, else `generic`)."""
    restore = next((s for s in spec.scenarios.values() if s.kind == "restore"), None)
    vmm = vmm or (restore.vmm if restore and restore.vmm else "generic")
    metrics = execute(spec, "restore", vmm, max(trace.vcpus, 1))
    model: Counts = {}
    for (ioctl, fd), n in sorted(metrics.by_ioctl.items()):
        model.setdefault(ioctl, {})[fd] = n
    observed = {ioctl: dict(sorted(by_fd.items())) for ioctl, by_fd in sorted(trace.counts().items())}
    named: set[str] = set()
    rows = []
    interfaces = [i for i in spec.interfaces.values() if isinstance(i, m.Interface)]
    for interface in sorted(interfaces, key=lambda i: i.name):
        ioctls = [i.name.text for i in interface.ioctls]
        named.update(ioctls)
        written = tuple(
            sorted(r.name for r in spec.registers.values() if r.migrate and spec.generic_path(r) is interface)
        )
        rows.append(
            InterfaceRow(
                interface,
                _through(model, interface),
                _through(observed, interface),
                metrics.serialized_by_interface.get(interface.name, 0),
                written,
            )
        )
    unmapped = {ioctl: by_fd for ioctl, by_fd in observed.items() if ioctl not in named}
    return TraceComparison(
        trace.vcpus,
        vmm,
        observed,
        model,
        tuple(rows),
        _errors(spec, trace),
        unmapped,
        trace.skipped,
    )


def _through(counts: Counts, interface: m.Interface) -> Counts:
    """The calls of the interface's ioctls that went through it: its get and set on fds of
    its scope (two interfaces may share an ioctl on different fds, as KVM_SET_TSC_KHZ does;
    KVM_GET_MSRS on the system fd reads feature MSRs, not a vCPU's); its `list` and `has`
    on any fd (x86 lists MSRs on the system fd)."""
    found: Counts = {}
    for ioctl in interface.ioctls:
        by_fd = counts.get(ioctl.name.text, {})
        kept = by_fd if ioctl.role in ("list", "has") else {fd: n for fd, n in by_fd.items() if fd == interface.scope}
        if kept:
            found[ioctl.name.text] = dict(kept)
    return found


def _errors(spec: ResolvedSpec, trace: Trace) -> tuple[ObservedError, ...]:
    failed: Counter[tuple[str, str, str]] = Counter()
    first: dict[tuple[str, str, str], int] = {}
    for call in trace.calls:
        if call.errno is not None:
            key = (call.request, call.scope, call.errno)
            failed[key] += 1
            first.setdefault(key, call.line)
    out = []
    for key in sorted(failed, key=lambda k: first[k]):
        ioctl, scope, errno = key
        claim, where = _explanation(spec, ioctl, errno)
        out.append(ObservedError(ioctl, scope, errno, failed[key], first[key], claim, where))
    return tuple(out)


def _explanation(spec: ResolvedSpec, ioctl: str, errno: str) -> tuple[str | None, Span | None]:
    """The first spec claim that gives `errno` for `ioctl`, in the spec's order."""
    for interface in (i for i in spec.interfaces.values() if isinstance(i, m.Interface)):
        if ioctl not in (i.name.text for i in interface.ioctls):
            continue
        for register in spec.registers.values():
            if interface not in spec.interfaces_of(register):
                continue
            for claim, said, where in _register_errnos(register):
                if said == errno:
                    return f"{register.name}: {claim}", where
    declared = spec.ioctls.get(ioctl)
    if declared is not None and declared.arg is not None:
        argument = spec.types.get(declared.arg.name.text)
        if isinstance(argument, m.Struct):
            for field in argument.fields:
                if field.kind == "pad" and field.check == "zero" and field.errno and field.errno.text == errno:
                    return f"{ioctl}: pad {field.name.text} check zero {errno}", field.span
                flags = spec.types.get(field.type.name.text)
                unknown = flags.unknown if isinstance(flags, m.Flags) else None
                if unknown is not None and unknown.errno is not None and unknown.errno.text == errno:
                    return f"{ioctl}: {flags.name} unknown reject {errno}", unknown.span  # type: ignore[union-attr]
    if ioctl == "KVM_ENABLE_CAP":
        for cap in (c for c in spec.capabilities.values() if isinstance(c, m.Capability)):
            if cap.before and cap.before_errno and cap.before_errno.text == errno:
                return f"{cap.name}: before {cap.before} else {errno}", cap.span
    return None, None


def _register_errnos(register: m.Register) -> list[tuple[str, str, Span]]:
    found = []
    writable = register.writable
    if writable is not None and writable.errno is not None:
        errno = writable.errno.text
        found.append((f"writable before {writable.event} else {errno}", errno, writable.span))
    if register.rewrite and register.rewrite.errno:
        found.append(
            (f"rewrite same_value {register.rewrite.errno.text}", register.rewrite.errno.text, register.rewrite.span)
        )
    if register.reserved and register.reserved.errno:
        found.append(
            (f"reserved reject {register.reserved.errno.text}", register.reserved.errno.text, register.reserved.span)
        )
    if register.uniform and register.uniform.errno:
        found.append(
            (f"uniform enforced {register.uniform.errno.text}", register.uniform.errno.text, register.uniform.span)
        )
    if register.opt_in:
        found.append((f"exists only after {register.opt_in.text}", "ENOENT", register.opt_in.span))
    return found


def counts_view(counts: Counts) -> dict[str, dict[str, int]]:
    """Counts with every fd kind named, in SCOPES order (JSON's shape)."""
    return {
        ioctl: {s: by_fd.get(s, 0) for s in SCOPES if s != "unknown" or by_fd.get(s)} for ioctl, by_fd in counts.items()
    }
