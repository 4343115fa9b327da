"""conform: each claim of a spec that the running kernel can be asked about, asked.

`judge_register` and `judge_capabilities` compare the experiments' facts
(validator.kernel.experiments) with the claims: one `Verdict` per claim, verified,
contradicted or not testable here with why. They are pure; the tests hand them facts.
`run_conform` gets the facts through a transport, and `kvm_conformer` is this machine's.
The K rules (validator.rules.kernel) report the contradicted verdicts; the engine's note
counts all three outcomes.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import replace

from validator.frontend.resolve import ResolvedSpec
from validator.kernel.arguments import judge_arguments, judge_deadlines
from validator.kernel.cfront import HeaderError, read_c_headers
from validator.kernel.experiments import (
    Probed,
    VcpuAccess,
    probe_registers,
    probe_table,
    probe_vcpu_value,
    probe_vm_value,
)
from validator.kernel.kvm import SIZE_FIELD, VALUE_IOCTLS, X86_MSR_ID_BASE, CpuidTable, IoctlValue, Kvm, cpuid_variant
from validator.kernel.qemu import GuestKvm
from validator.kernel.verdicts import (
    CAPABILITY,
    CONTRADICTED,
    LIFECYCLE,
    LISTED,
    RESERVED,
    RESET,
    SCOPE,
    UNIFORM,
    UNTESTABLE,
    VERIFIED,
    WIDTH,
    Conformance,
    Verdict,
)
from validator.model import spec as m
from validator.model.frozen import frozen
from validator.model.words import describe

MSR_LIST = "KVM_GET_MSR_INDEX_LIST"
_MSR_ID_MASK = 0xFFFF_FFFF_0000_0000


@frozen
class Listing:
    """What a transport's list ioctl returned: its name and the register ids it lists."""

    ioctl: str
    ids: frozenset[int]


def is_msr_id(register_id: int | None) -> bool:
    """An x86 MSR's ONE_REG id, whatever its size field says (the width claim asks that)."""
    return register_id is not None and register_id & _MSR_ID_MASK & ~SIZE_FIELD == X86_MSR_ID_BASE & ~SIZE_FIELD


def is_arm64_id(register_id: int | None) -> bool:
    """An arm64 ONE_REG id (KVM_REG_ARM64 in the architecture field)."""
    return register_id is not None and register_id >> 56 == 0x60


def _verdict(kind: str, register: m.Register, keyword: str, claimed: str, observed: str, status: str) -> Verdict:
    return Verdict(kind, f"register/{register.name}", m.attr_span(register, keyword), claimed, observed, status)


def judge_register(
    register: m.Register, probed: Probed | None, listed: Listing | None, spec: ResolvedSpec
) -> list[Verdict]:
    """Every claim of one register against the experiments' facts (None: no transport)."""
    verdicts: list[Verdict] = []
    claims = _claims(register, spec)
    if probed is None:
        reached = f"id 0x{register.id:x}" if register.id is not None else "it"
        why = f"no transport of this target reaches {reached}"
        return [_verdict(kind, register, keyword, claimed, why, UNTESTABLE) for kind, keyword, claimed in claims]
    for kind, keyword, claimed in claims:
        judged = _JUDGES[keyword](register, probed, listed, spec)
        verdict = _verdict(kind, register, keyword, claimed, judged[0], judged[1])
        verdicts.append(replace(verdict, errno_only=True) if len(judged) == 3 and judged[2] else verdict)
    return verdicts


def _claims(register: m.Register, spec: ResolvedSpec) -> list[tuple[str, str, str]]:
    """(kind, keyword, the claim as written) for each attribute conform can ask about."""
    claims = []
    if register.width is not None and register.id is not None:
        claims.append((WIDTH, "width", str(register.width)))
    if register.reset is not None:
        claims.append((RESET, "reset", describe(register.reset)))
    if register.scope is not None:
        claims.append((SCOPE, "scope", register.scope))
    if register.writable is not None:
        claims.append((LIFECYCLE, "writable", describe(register.writable)))
    if register.rewrite is not None:
        claims.append((LIFECYCLE, "rewrite", describe(register.rewrite)))
    if register.uniform is not None:
        claims.append((UNIFORM, "uniform", describe(register.uniform)))
    if register.reserved is not None:
        claims.append((RESERVED, "reserved", describe(register.reserved)))
    lists = [i.ioctl("list") for i in spec.interfaces_of(register)]
    if any(lists):
        claims.append((LISTED, "via", "listed by " + " or ".join(sorted(name for name in lists if name))))
    return claims


Judged = tuple[str, str] | tuple[str, str, bool]


def _width(register: m.Register, probed: Probed, listed: Listing | None, spec: ResolvedSpec) -> Judged:
    if probed.width is None:
        return "KVM_GET_ONE_REG does not read it at exactly one size", UNTESTABLE
    if probed.width.value == str(register.width):
        return probed.width.how, VERIFIED
    return f"{probed.width.value} bits: {probed.width.how}", CONTRADICTED


def _reset(register: m.Register, probed: Probed, listed: Listing | None, spec: ResolvedSpec) -> Judged:
    reset = register.reset
    assert reset is not None
    if reset.kind != "value":
        return f"`reset {reset.kind}` describes a vCPU reset, which the experiment does not perform", UNTESTABLE
    if probed.reset is None:
        return _unknown(probed, "reset"), UNTESTABLE
    observed = int(probed.reset.value, 16)
    if observed == reset.value:
        return f"fresh vCPUs read 0x{observed:x}", VERIFIED
    return f"fresh vCPUs read 0x{observed:x} ({probed.reset.how})", CONTRADICTED


def _scope(register: m.Register, probed: Probed, listed: Listing | None, spec: ResolvedSpec) -> Judged:
    expected = {"vm": "vm", "write_once": "vm", "vcpu": "vcpu"}.get(register.scope or "")
    if probed.crossed == "vcpu_create" and register.scope == "system":
        expected = "system"  # a VM-fd value: two VMs tell system from vm
    if expected is None:
        return f"scope {register.scope} needs a second VM or a device to tell apart", UNTESTABLE
    if probed.scope is None:
        return _unknown(probed, "scope"), UNTESTABLE
    status = VERIFIED if probed.scope.value == expected else CONTRADICTED
    return f"one value per {probed.scope.value.replace('vcpu', 'vCPU').replace('vm', 'VM')}: {probed.scope.how}", status


def _writable(register: m.Register, probed: Probed, listed: Listing | None, spec: ResolvedSpec) -> Judged:
    writable = register.writable
    assert writable is not None
    if writable.kind == "never" or (writable.kind == "before" and writable.event != probed.crossed):
        what = "never" if writable.kind == "never" else f"before {writable.event}"
        return f"`writable {what}`: the experiment writes after {probed.crossed} only", UNTESTABLE
    if probed.writable is None:
        return _unknown(probed, "after first_run"), UNTESTABLE
    return _compare_refusal(describe(writable), probed.writable.value, probed.writable.how)


def _rewrite(register: m.Register, probed: Probed, listed: Listing | None, spec: ResolvedSpec) -> Judged:
    rewrite = register.rewrite
    assert rewrite is not None
    if probed.rewrite is None or probed.writable is None or probed.writable.value == "always":
        return f"it stayed writable after {probed.crossed}, so there was no deadline to rewrite after", UNTESTABLE
    return _compare_refusal(describe(rewrite), f"same_value {probed.rewrite.value}", probed.rewrite.how)


def _uniform(register: m.Register, probed: Probed, listed: Listing | None, spec: ResolvedSpec) -> Judged:
    uniform = register.uniform
    assert uniform is not None
    if uniform.kind == "none":
        return "`uniform none` makes no claim a write can refute", UNTESTABLE
    if probed.uniform is None:
        reason = "it is not one value per VM" if probed.scope else _unknown(probed, "scope")
        return f"two vCPUs' writes were not compared: {reason}", UNTESTABLE
    observed = probed.uniform.value.removesuffix(" as implementation")
    claimed = describe(uniform).rsplit(" as ", 1)[0]
    return _compare_refusal(claimed, observed, probed.uniform.how)


def undefined_bit(register: m.Register) -> int | None:
    """The lowest bit a register with `reserved` leaves undefined (no `bits` entry), to set."""
    if register.reserved is None:
        return None
    defined = {bit.index for bit in register.bits}
    return next((bit for bit in range(register.width or 64) if bit not in defined), None)


def _reserved(register: m.Register, probed: Probed, listed: Listing | None, spec: ResolvedSpec) -> Judged:
    reserved = register.reserved
    assert reserved is not None
    if probed.reserved is None:
        return "no undefined bit to set (every bit is named), or the register cannot be read", UNTESTABLE
    return _compare_refusal(describe(reserved), probed.reserved.value, probed.reserved.how)


def _listed(register: m.Register, probed: Probed, listed: Listing | None, spec: ResolvedSpec) -> Judged:
    lists = [i.ioctl("list") for i in spec.interfaces_of(register)]
    if listed is None:
        return "no list ioctl was read", UNTESTABLE
    if listed.ioctl not in lists:
        return f"the experiment reads only {listed.ioctl}", UNTESTABLE
    if not probed.readable:
        # Not there at all on this vCPU (a register of a vCPU feature the experiment does not
        # enable, such as SVE): whether it would be listed cannot be told.
        return "KVM_GET_ONE_REG finds no such register on the experiment's vCPU", UNTESTABLE
    # Compared without the size field: a wrong size is K109's, not a missing register.
    if (register.id or 0) & ~SIZE_FIELD in {listed_id & ~SIZE_FIELD for listed_id in listed.ids}:
        return f"{listed.ioctl} lists 0x{register.id:x}", VERIFIED
    return f"{listed.ioctl} does not list 0x{register.id or 0:x}", CONTRADICTED


def _compare_refusal(claimed: str, observed: str, how: str) -> Judged:
    """Same words: verified; both refusals with other errnos: contradicted in the errno only."""
    if claimed == observed:
        return how, VERIFIED
    claimed_errno, observed_errno = _errno_of(claimed), _errno_of(observed)
    both_refused = claimed_errno is not None and observed_errno is not None
    same_rest = both_refused and claimed.replace(claimed_errno or "", "") == observed.replace(observed_errno or "", "")
    return f"{observed} ({how})", CONTRADICTED, bool(same_rest)


def _errno_of(words: str) -> str | None:
    return next((w for w in words.split() if w.startswith("E") and w.isupper() and len(w) > 2), None)


def _unknown(probed: Probed, prefix: str) -> str:
    return next((u for u in probed.unknown if u.startswith(prefix)), f"{prefix}: the experiment could not tell")


_JUDGES: dict[str, Callable[[m.Register, Probed, Listing | None, ResolvedSpec], Judged]] = {
    "width": _width,
    "reset": _reset,
    "scope": _scope,
    "writable": _writable,
    "rewrite": _rewrite,
    "uniform": _uniform,
    "reserved": _reserved,
    "via": _listed,
}


def judge_capabilities(
    spec: ResolvedSpec, numbers: dict[str, int], supported: Callable[[int], int], release: str
) -> list[Verdict]:
    """Each capability the spec declares: KVM_CHECK_EXTENSION must answer nonzero, unless it
    came after the running kernel (`since`). A capability offered only on some hosts (`host`)
    answering 0 is not held against the spec: this host may lack what it needs."""
    verdicts = []
    for capability in spec.capabilities.values():
        if not isinstance(capability, m.Capability):
            continue
        subject, span = f"capability/{capability.name}", capability.span
        claimed = "offered by KVM_CHECK_EXTENSION"
        if capability.host:
            claimed = f"offered where the host has {capability.host}"
        number = numbers.get(capability.name)
        if number is None:
            verdicts.append(Verdict(CAPABILITY, subject, span, claimed, "<linux/kvm.h> does not define it", UNTESTABLE))
        elif capability.since and m.version_key(capability.since) > m.version_key(release):
            observed = f"since {capability.since}, after the running kernel {release}"
            verdicts.append(Verdict(CAPABILITY, subject, span, claimed, observed, UNTESTABLE))
        else:
            answer = supported(number)
            observed = f"KVM_CHECK_EXTENSION({capability.name} = {number}) answers {answer}"
            status = VERIFIED if answer > 0 else CONTRADICTED
            if answer <= 0 and capability.host:
                observed += f": this host lacks {capability.host}, or the claim is wrong"
                status = UNTESTABLE
            verdicts.append(Verdict(CAPABILITY, subject, span, claimed, observed, status))
    return verdicts


def absent_capabilities(spec: ResolvedSpec, numbers: dict[str, int], supported: Callable[[int], int]) -> frozenset[str]:
    """The capabilities interfaces of the spec name (`cap`) that KVM_CHECK_EXTENSION answers
    0 for on the target."""
    named = {i.cap.text for i in spec.interfaces.values() if isinstance(i, m.Interface) and i.cap}
    return frozenset(name for name in named if name in numbers and supported(numbers[name]) <= 0)


def conditional(
    verdicts: list[Verdict], register: m.Register, spec: ResolvedSpec, absent: frozenset[str]
) -> list[Verdict]:
    """A claim about a register reached only through interfaces whose capability (`cap`) the
    target does not offer holds only where it is offered: if the kernel contradicts it here,
    it is not testable here; if the kernel bears it out all the same, the verdict says so."""
    interfaces = spec.interfaces_of(register)
    caps = sorted({i.cap.text for i in interfaces if i.cap})
    if not interfaces or not caps or not all(i.cap and i.cap.text in absent for i in interfaces):
        return verdicts
    why = f"{' and '.join(caps)} {'answer' if len(caps) > 1 else 'answers'} 0 here"
    judged = []
    for verdict in verdicts:
        if verdict.status == CONTRADICTED:
            verdict = replace(
                verdict,
                observed=f"{verdict.observed}; {why}: the claim holds where it is offered",
                status=UNTESTABLE,
                errno_only=False,
            )
        elif verdict.status == VERIFIED:
            verdict = replace(verdict, observed=f"{verdict.observed} (though {why})")
        judged.append(verdict)
    return judged


CPUID_SET = "KVM_SET_CPUID2"  # a register set through this ioctl is the vCPU's CPUID table


def value_setter(register: m.Register, spec: ResolvedSpec) -> tuple[str, str] | None:
    """(scope, ioctl) of the VM-fd or vCPU-fd ioctl that sets a register the value transport
    reaches (one that takes the value as its argument), if any."""
    for interface in spec.interfaces_of(register):
        setter = interface.ioctl("set")
        if interface.scope in ("vm", "vcpu") and setter in VALUE_IOCTLS:
            return interface.scope, setter
    return None


def is_cpuid_table(register: m.Register, spec: ResolvedSpec) -> bool:
    return any(i.ioctl("set") == CPUID_SET for i in spec.interfaces_of(register))


def run_conform(
    spec: ResolvedSpec,
    vcpus: Sequence[VcpuAccess],
    target: Target,
    capabilities: list[Verdict],
    table_probe: Callable[[], Probed] | None = None,
    value_probe: Callable[[str, str], Probed] | None = None,
    absent: frozenset[str] = frozenset(),
) -> Conformance:
    """Every claim of the spec: the experiments on the registers the target reaches, on
    fresh vCPUs, judged; then the capabilities. `table_probe` runs the table experiments
    (the CPUID table) on vCPUs of their own, `value_probe(scope, ioctl)` those of values an
    ioctl takes as its argument. A register dated after the target's kernel (`since`) is not
    asked; one reached only through interfaces whose capability is `absent` here is judged
    as `conditional` says."""
    current = [r for r in spec.registers.values() if not _newer(r.since, target.version)]
    registers = [r for r in current if target.reaches(r.id)]
    bits = {r.id or 0: bit for r in registers if (bit := undefined_bit(r)) is not None}
    found = probe_registers([r.id or 0 for r in registers], vcpus, bits)
    probed: dict[str, Probed] = {r.name: p for r, p in zip(registers, found, strict=True)}
    tables = [r for r in current if is_cpuid_table(r, spec)]
    if tables and table_probe is not None:
        table = table_probe()
        probed.update((r.name, table) for r in tables)
    for register in current:
        setter = value_setter(register, spec)
        if setter is not None and value_probe is not None:
            probed[register.name] = value_probe(*setter)
    verdicts = []
    for register in spec.registers.values():
        if _newer(register.since, target.version):
            why = f"since {register.since}, after the running kernel {target.version}"
            verdicts += [
                _verdict(k, register, key, claim, why, UNTESTABLE) for k, key, claim in _claims(register, spec)
            ]
        else:
            judged = judge_register(register, probed.get(register.name), target.listing, spec)
            verdicts += conditional(judged, register, spec, absent)
    return Conformance(tuple(verdicts + capabilities), target.kernel)


def _newer(since: str | None, version: str) -> bool:
    return since is not None and m.version_key(since) > m.version_key(version)


@frozen
class Target:
    """The kernel asked: its name for messages, its version, what its list ioctl returned and
    which register ids its transport reaches."""

    kernel: str  # "Linux 6.18.44 (x86_64)"
    version: str  # "6.18"
    listing: Listing | None
    reaches: Callable[[int | None], bool]


KVM_HEADER = "/usr/include/linux/kvm.h"  # where the KVM_CAP_* numbers are read, when installed


class NotConformable(Exception):
    """A spec this machine's kernel cannot be asked about (another architecture's)."""


def kvm_conformer(kvm: Kvm, vcpu_count: int, release: str) -> Callable[[ResolvedSpec], Conformance]:
    """Conformance of x86 specs on this machine's KVM: each spec on a fresh VM of its own."""
    numbers = capability_numbers()
    version = ".".join(release.split(".")[:2])
    listing = Listing(MSR_LIST, frozenset(X86_MSR_ID_BASE | index for index in kvm.msr_indices()))
    target = Target(f"Linux {release} ({platform.machine()})", version, listing, is_msr_id)

    def conformer(spec: ResolvedSpec) -> Conformance:
        api = spec.api.name if spec.api else ""
        if api and not api.endswith("x86"):
            raise NotConformable(f"{spec.root}: api {api}: this machine's KVM answers for x86 specs")
        vm = kvm.create_vm()  # a fresh VM for each spec: no claim sees another's writes
        vcpus = [vm.create_vcpu() for _ in range(vcpu_count)]
        capabilities = judge_capabilities(spec, numbers, vm.check_extension, version)

        def table_probe() -> Probed:
            table_vm = kvm.create_vm()
            tables = [CpuidTable(table_vm.create_vcpu()) for _ in range(2)]
            return probe_table(tables, kvm.supported_cpuid(), cpuid_variant)

        def value_probe(scope: str, setter: str) -> Probed:
            get_request, set_request = VALUE_IOCTLS[setter]
            if scope == "vcpu":
                own = kvm.create_vm()
                first_vcpu, second_vcpu = own.create_vcpu(), own.create_vcpu()
                return probe_vcpu_value(
                    IoctlValue(first_vcpu.fd, get_request, set_request),
                    IoctlValue(second_vcpu.fd, get_request, set_request),
                    first_vcpu.run,
                )
            first, second = kvm.create_vm(), kvm.create_vm()
            return probe_vm_value(
                IoctlValue(first.fd, get_request, set_request),
                IoctlValue(second.fd, get_request, set_request),
                first.create_vcpu,
            )

        absent = absent_capabilities(spec, numbers, vm.check_extension)
        conformance = run_conform(spec, vcpus, target, capabilities, table_probe, value_probe, absent)
        asked = judge_arguments(spec, kvm.open_fd, "x86_64", version)
        asked += judge_deadlines(spec, numbers, kvm.open_fd, vm.check_extension, version)
        return replace(conformance, verdicts=conformance.verdicts + tuple(asked))

    return conformer


def capability_numbers(header_path: str = KVM_HEADER) -> dict[str, int]:
    """KVM_CAP_* as <linux/kvm.h> defines them, read as the compiler reads it (with the
    machine's <asm/kvm.h>); none where the headers are not installed."""
    if not os.path.isfile(header_path):
        return {}
    include = os.path.dirname(os.path.dirname(header_path))  # /usr/include for /usr/include/linux/kvm.h
    directories = [include, os.path.join(include, f"{platform.machine()}-linux-gnu")]
    try:
        headers = read_c_headers([header_path], directories, "x86_64" if platform.machine() == "x86_64" else "aarch64")
    except HeaderError:
        return {}
    return {name: value for name, value in headers.macros.items() if name.startswith("KVM_CAP_")}


def guest_conformer(guest: GuestKvm, vcpu_count: int) -> Callable[[ResolvedSpec], Conformance]:
    """Conformance of arm64 specs in an emulated arm64 guest: each spec on a fresh VM there."""
    numbers = capability_numbers()  # KVM_CAP_* are the same numbers on every architecture
    version = ".".join(guest.release.split(".")[:2])

    def conformer(spec: ResolvedSpec) -> Conformance:
        api = spec.api.name if spec.api else ""
        if api and not api.endswith("arm64"):
            raise NotConformable(f"{spec.root}: api {api}: the arm64 guest answers for arm64 specs")
        vm = guest.create_vm()
        vcpus = [vm.create_vcpu() for _ in range(vcpu_count)]
        listing = Listing("KVM_GET_REG_LIST", vcpus[0].register_list())
        target = Target(f"Linux {guest.release} (aarch64, emulated)", version, listing, is_arm64_id)
        capabilities = judge_capabilities(spec, numbers, vm.check_extension, version)
        absent = absent_capabilities(spec, numbers, vm.check_extension)
        conformance = run_conform(spec, vcpus, target, capabilities, absent=absent)
        asked = judge_arguments(spec, guest.open_fd, "aarch64", version)
        asked += judge_deadlines(spec, numbers, guest.open_fd, vm.check_extension, version)
        return replace(conformance, verdicts=conformance.verdicts + tuple(asked))

    return conformer
