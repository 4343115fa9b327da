"""conform for the ioctl statements: argument checks and capability deadlines, asked.

Two experiments, each over any transport that can issue an ioctl with a byte payload on a
fresh fd (`Opener`):

- **Argument checks.** For each declared ioctl that copies a struct in, a zeroed argument
  is the control. Then each undefined bit of a top-level `flags` field whose set says
  `unknown reject ERRNO` is set alone, and each top-level `pad` is made nonzero: the kernel
  must refuse those (`check zero ERRNO`), or accept them (`pad ... ignore`). This is what
  the "unchecked flags" history was about (botching-up-ioctls.rst: "check all unused fields
  and flags"). A claim is testable only where the kernel accepts the zeroed control: a
  refusal of both says nothing about the bit.
- **Capability deadlines.** For each opt-in (or opt-out) capability with `before EVENT`,
  KVM_ENABLE_CAP (zero arguments) on a fresh VM is the control, then again on a VM that
  has passed EVENT: the second must be refused, with the errno the spec names.

Payloads are laid out from the declarations for the target's ABI
(validator.frontend.layout), so the ioctl numbers are the spec's own.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

from validator.frontend.layout import SCALARS, LayoutError, Placed, ioctl_number, ioctl_size, lay_out
from validator.frontend.resolve import ResolvedSpec
from validator.kernel.experiments import bit_ranges
from validator.kernel.kvm import Outcome
from validator.kernel.verdicts import ARGUMENT, CONTRADICTED, DEADLINE, UNTESTABLE, VERIFIED, Verdict
from validator.model import spec as m
from validator.model.frozen import frozen
from validator.model.spans import Span

# Issue one ioctl (request, payload) on the fd an `Opener` made.
Issue = Callable[[int, bytes], Outcome]
# A fresh fd of a scope (system | vm | vcpu) on a VM that has passed `event` (None: a new
# VM); None where the transport cannot reach that point.
Opener = Callable[[str, "str | None"], "Issue | None"]

# struct kvm_enable_cap { __u32 cap; __u32 flags; __u64 args[4]; __u8 pad[64]; }: 104 bytes,
# the same on every ABI; KVM_ENABLE_CAP is _IOW(KVMIO, 0xa3, struct kvm_enable_cap).
ENABLE_CAP_SIZE = 104
KVM_ENABLE_CAP = ioctl_number("in", 0xA3, ENABLE_CAP_SIZE)


def enable_cap_payload(capability: int) -> bytes:
    return struct.pack("<II", capability, 0).ljust(ENABLE_CAP_SIZE, b"\0")


@frozen
class Probe:
    """One change to a zeroed argument, and what the spec says the kernel does with it."""

    claim: m.Flags | m.Field  # the flags set (undefined bits) or the pad
    owner: str  # the struct that holds the field
    offset: int
    data: bytes  # written at offset
    refused_with: str | None  # the errno the spec names; None: accepted (`pad ... ignore`)
    what: str  # "bit 5 of flags", "pad1 nonzero"


def argument_probes(spec: ResolvedSpec, ioctl: m.IoctlDecl, abi: str) -> tuple[int, int, list[Probe]] | None:
    """(request, size, probes) for an ioctl that copies a struct in; None for one that does not."""
    arg = spec.types.get(ioctl.arg.name.text) if ioctl.arg else None
    if not isinstance(arg, m.Struct) or ioctl.arg is None or ioctl.arg.count is not None:
        return None
    if ioctl.dir not in ("in", "inout") or ioctl.nr is None:
        return None
    types = dict(spec.types)
    try:
        layout = lay_out(types, arg, abi)
        request = ioctl_number(ioctl.dir, ioctl.nr, ioctl_size(types, ioctl, abi))
    except LayoutError:
        return None
    probes = [probe for placed in layout.fields for probe in _probes_of(spec, arg.name, placed)]
    return request, layout.size, probes


def _probes_of(spec: ResolvedSpec, owner: str, placed: Placed) -> Iterator[Probe]:
    field = placed.field
    if field.kind == "pad" and field.check in ("zero", "ignore"):
        errno = field.errno.text if field.check == "zero" and field.errno else None
        yield Probe(field, owner, placed.offset, b"\x01", errno, f"{field.name.text} nonzero")
        return
    flags = spec.types.get(field.type.name.text)
    if field.kind != "field" or not isinstance(flags, m.Flags) or field.type.count is not None:
        return
    if flags.unknown is None or flags.unknown.kind != "reject" or flags.unknown.errno is None:
        return
    width = SCALARS.get(flags.type.text, 0) * 8
    defined = {bit.index for bit in flags.bits}
    for index in range(width):
        if index not in defined:
            data = (1 << index).to_bytes(width // 8, "little")
            yield Probe(
                flags, owner, placed.offset, data, flags.unknown.errno.text, f"bit {index} of {field.name.text}"
            )


def judge_arguments(spec: ResolvedSpec, open_fd: Opener, abi: str, version: str) -> list[Verdict]:
    """Every argument claim of the spec's ioctls, asked on fresh fds of the ioctl's scope."""
    verdicts: list[Verdict] = []
    for ioctl in spec.ioctls.values():
        planned = argument_probes(spec, ioctl, abi)
        if planned is None or not planned[2]:
            continue
        request, size, probes = planned
        if ioctl.since and m.version_key(ioctl.since) > m.version_key(version):
            why = f"{ioctl.name} is since {ioctl.since}, after the running kernel {version}"
            verdicts += _untestable(probes, ioctl, why)
            continue
        issue = open_fd(ioctl.scope, None)
        if issue is None:
            verdicts += _untestable(probes, ioctl, f"no transport of this target reaches a {ioctl.scope} fd")
            continue
        # The probes first: a refused one changes nothing, and the control may.
        answers = [(probe, issue(request, _payload(size, probe))) for probe in probes]
        control = issue(request, bytes(size))
        verdicts += _judge(ioctl, answers, control)
    return verdicts


def _payload(size: int, probe: Probe) -> bytes:
    payload = bytearray(size)
    payload[probe.offset : probe.offset + len(probe.data)] = probe.data
    return bytes(payload)


def _claim(probe: Probe) -> tuple[str, str, Span]:
    """(subject, claimed, span) of the claim a probe asks."""
    claim = probe.claim
    if isinstance(claim, m.Flags):
        assert claim.unknown is not None
        return f"flags/{claim.name}", f"undefined bits rejected with {probe.refused_with}", claim.unknown.span
    said = f"nonzero refused with {probe.refused_with}" if probe.refused_with else "nonzero ignored"
    return f"struct/{probe.owner}/{claim.name.text}", said, claim.span


def _untestable(probes: list[Probe], ioctl: m.IoctlDecl, why: str) -> list[Verdict]:
    seen: dict[tuple[str, str], Verdict] = {}
    for probe in probes:
        subject, claimed, span = _claim(probe)
        seen.setdefault(
            (subject, claimed), Verdict(ARGUMENT, subject, span, f"{ioctl.name}: {claimed}", why, UNTESTABLE)
        )
    return list(seen.values())


def _judge(ioctl: m.IoctlDecl, answers: list[tuple[Probe, Outcome]], control: Outcome) -> list[Verdict]:
    """One verdict per claim (a flags set's undefined bits are one claim)."""
    grouped: dict[tuple[str, str], list[tuple[Probe, Outcome]]] = {}
    for probe, outcome in answers:
        subject, claimed, _ = _claim(probe)
        grouped.setdefault((subject, claimed), []).append((probe, outcome))
    verdicts = []
    for (subject, claimed), group in grouped.items():
        span = _claim(group[0][0])[2]
        said = f"{ioctl.name}: {claimed}"
        if not control.ok:
            why = f"{ioctl.name} refuses a zeroed argument too ({control.errno}): a probe needs an argument it accepts"
            verdicts.append(Verdict(ARGUMENT, subject, span, said, why, UNTESTABLE))
            continue
        verdicts.append(_verdict_of(subject, span, said, group))
    return verdicts


def _verdict_of(subject: str, span: Span, said: str, group: list[tuple[Probe, Outcome]]) -> Verdict:
    expected = group[0][0].refused_with
    if expected is None:  # `pad ... ignore`: accepted
        refused = [(p, o) for p, o in group if not o.ok]
        if refused:
            observed = "; ".join(f"{p.what}: refused with {o.errno}" for p, o in refused)
            return Verdict(ARGUMENT, subject, span, said, observed, CONTRADICTED)
        return Verdict(ARGUMENT, subject, span, said, "accepted, as a zeroed argument is", VERIFIED)
    accepted = [p for p, o in group if o.ok]
    other = sorted({o.errno or "" for p, o in group if not o.ok and o.errno != expected})
    if accepted:
        observed = f"accepted {_what(accepted)}"
        return Verdict(ARGUMENT, subject, span, said, observed, CONTRADICTED)
    if other:
        observed = f"refused {_what([p for p, _ in group])} with {', '.join(other)}"
        return Verdict(ARGUMENT, subject, span, said, observed, CONTRADICTED, errno_only=True)
    return Verdict(ARGUMENT, subject, span, said, f"refused {_what([p for p, _ in group])} with {expected}", VERIFIED)


def _what(probes: list[Probe]) -> str:
    bits = [int(p.what.split()[1]) for p in probes if p.what.startswith("bit ")]
    if bits and len(bits) == len(probes):
        field = probes[0].what.split(" of ", 1)[1]
        return f"{field} bit{'s' if len(bits) > 1 else ''} {bit_ranges(bits)}"
    return ", ".join(p.what for p in probes)


def judge_deadlines(
    spec: ResolvedSpec, numbers: dict[str, int], open_fd: Opener, supported: Callable[[int], int], version: str
) -> list[Verdict]:
    """Each opt-in (or opt-out) capability's `before EVENT [else ERRNO]`: KVM_ENABLE_CAP on a
    fresh VM (the control) and on one past EVENT."""
    verdicts = []
    for capability in spec.capabilities.values():
        if not isinstance(capability, m.Capability) or capability.kind not in ("opt_in", "opt_out"):
            continue
        if not capability.before:
            continue
        errno = capability.before_errno.text if capability.before_errno else None
        claimed = f"enabling it after {capability.before} is refused" + (f" with {errno}" if errno else "")
        subject, span = f"capability/{capability.name}", m.attr_span(capability, "before")
        number = numbers.get(capability.name)
        why = _deadline_untestable(capability, number, supported, version)
        if why is None:
            assert number is not None
            before, after = open_fd("vm", None), open_fd("vm", capability.before)
            if before is None or after is None:
                why = f"this target cannot reach {capability.before} on a fresh VM"
            else:
                control = before(KVM_ENABLE_CAP, enable_cap_payload(number))
                late = after(KVM_ENABLE_CAP, enable_cap_payload(number))
                verdicts.append(_deadline_verdict(subject, span, claimed, capability.before, errno, control, late))
                continue
        verdicts.append(Verdict(DEADLINE, subject, span, claimed, why, UNTESTABLE))
    return verdicts


def _deadline_untestable(
    capability: m.Capability, number: int | None, supported: Callable[[int], int], version: str
) -> str | None:
    if number is None:
        return "<linux/kvm.h> does not define it"
    if capability.since and m.version_key(capability.since) > m.version_key(version):
        return f"since {capability.since}, after the running kernel {version}"
    if supported(number) <= 0:
        return "KVM_CHECK_EXTENSION answers 0 here: it cannot be enabled at all"
    return None


def _deadline_verdict(
    subject: str, span: Span, claimed: str, event: str, errno: str | None, control: Outcome, late: Outcome
) -> Verdict:
    if not control.ok:
        why = f"enabling it with zero arguments on a fresh VM is refused too ({control.errno})"
        return Verdict(DEADLINE, subject, span, claimed, why, UNTESTABLE)
    if late.ok:
        observed = f"enabled on a fresh VM, and again after {event}: no deadline"
        return Verdict(DEADLINE, subject, span, claimed, observed, CONTRADICTED)
    observed = f"enabled on a fresh VM; after {event} refused with {late.errno}"
    if errno is not None and late.errno != errno:
        return Verdict(DEADLINE, subject, span, claimed, observed, CONTRADICTED, errno_only=True)
    return Verdict(DEADLINE, subject, span, claimed, observed, VERIFIED)
