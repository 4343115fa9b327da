"""Cross-checking a spec against the kernel's C UAPI headers, read as the compiler reads them
(validator.kernel.cfront): register ids by family, capability and ioctl names, bit numbers;
and the `HeaderCheck` the CROSSCHECK-stage rules (E111, H901-H905) judge."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import field, replace
from typing import TYPE_CHECKING

from validator.frontend.resolve import ResolvedSpec
from validator.kernel.cdecl import FIXED_WIDTH, HeaderError, Layout, Reader
from validator.model import spec as m
from validator.model.frozen import frozen
from validator.model.spans import Span

if TYPE_CHECKING:
    from validator.kernel.cfront import CHeaders

SIZE_FIELD = 0x00F0_0000_0000_0000
_INDEX_BITS = (1 << 52) - 1  # everything below the size field

# The architecture byte of a ONE_REG id (KVM_REG_ARCH_MASK), in include/uapi/linux/kvm.h.
ARCHITECTURES = {0x10: "ppc", 0x20: "x86", 0x30: "ia64", 0x40: "arm", 0x50: "s390", 0x60: "arm64", 0x70: "mips"}
ARCHITECTURES[0x80] = "riscv"
# The group of an arm64 id (KVM_REG_ARM_COPROC_MASK, bits 16-27), arch/arm64/include/uapi/asm/kvm.h.
_ARM64_GROUPS = {0x10: "core", 0x11: "demux", 0x13: "sysreg", 0x14: "firmware", 0x15: "sve", 0x16: "bitmap"}
# The type of a RISC-V id (KVM_REG_RISCV_TYPE_MASK, bits 24-31), arch/riscv/include/uapi/asm/kvm.h.
_RISCV_TYPES = {1: "config", 2: "core", 3: "csr", 4: "timer", 5: "fp_f", 6: "fp_d", 7: "isa_ext", 8: "sbi_ext"}
_RISCV_TYPES |= {9: "vector", 10: "sbi_state"}
# The type of an x86 id (bits 32-39): KVM_X86_REG_TYPE_MSR, _KVM (6.18's asm/kvm.h).
_X86_TYPES = {2: "msr", 3: "kvm"}
FAMILIES = (
    *(f"arm64/{name}" for name in (*_ARM64_GROUPS.values(), "timer")),
    *(f"riscv/{name}" for name in _RISCV_TYPES.values()),
    *(f"x86/{name}" for name in _X86_TYPES.values()),
)


def register_family(value: int) -> str | None:
    """`arm64/firmware`, `riscv/csr`, `x86/msr`, ...: the family of a ONE_REG id, or None for
    a value that is not one (an architecture id, a size constant, a mask, a group field)."""
    architecture = ARCHITECTURES.get(value >> 56)
    if architecture is None or (value & SIZE_FIELD) >> 52 > 8 or value & _INDEX_BITS == 0:
        return None
    if architecture == "arm64":
        group = _ARM64_GROUPS.get((value >> 16) & 0xFFF)
        if group == "sysreg" and (value >> 11) & 0x1F == 0x1B and (value >> 7) & 0xF == 14:
            return "arm64/timer"  # op0 3, op1 3, CRn 14: the generic timer's system registers
        return f"arm64/{group}" if group else None
    if architecture == "riscv":
        kind = _RISCV_TYPES.get((value >> 24) & 0xFF)
        return f"riscv/{kind}" if kind else None
    if architecture == "x86":
        kind = _X86_TYPES.get((value >> 32) & 0xFF)
        return f"x86/{kind}" if kind else None
    return None


@frozen
class HeaderMacro:
    """Where a header defines a name."""

    name: str
    value: int
    path: str
    line: int


def where(macro: HeaderMacro) -> Span:
    return Span.point(macro.path, macro.line, 1)


@frozen
class HeaderRegisters:
    """The register id macros of a set of headers, with their families; and every integer
    name the headers define (for capabilities, ioctls and bits)."""

    by_name: dict[str, tuple[int, HeaderMacro]]
    families: dict[str, str]  # register macro name -> family
    names: dict[str, HeaderMacro]  # every integer macro and enumerator
    not_integers: frozenset[str]  # macros defined, but not integer constants (types, strings)
    version: str | None = None  # the kernel version the headers are of (linux/version.h), if known
    layouts: dict[str, Layout] = field(default_factory=dict)  # "struct kvm_regs" -> its layout
    abi: str = "x86_64"  # the ABI the headers were read for


# Families whose registers are built from a struct's members by a function-like macro, as
# the kernel's get-reg-list selftests build them: (struct, id expression, the macro that
# builds the index). {size} is the member's KVM_REG_SIZE_*, {member} its offsetof path, and
# {ulong} KVM_REG_SIZE_ULONG, which only newer headers define (the selftests define it too).
_STRUCT_FAMILIES = {
    "arm64/core": (
        "struct kvm_regs",
        "KVM_REG_ARM64 | {size} | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG({member})",
        "KVM_REG_ARM_CORE_REG",
    ),
    "riscv/config": (
        "struct kvm_riscv_config",
        "KVM_REG_RISCV | {ulong} | KVM_REG_RISCV_CONFIG | KVM_REG_RISCV_CONFIG_REG({member})",
        "KVM_REG_RISCV_CONFIG_REG",
    ),
    "riscv/core": (
        "struct kvm_riscv_core",
        "KVM_REG_RISCV | {ulong} | KVM_REG_RISCV_CORE | KVM_REG_RISCV_CORE_REG({member})",
        "KVM_REG_RISCV_CORE_REG",
    ),
    "riscv/csr": (
        "struct kvm_riscv_csr",
        "KVM_REG_RISCV | {ulong} | KVM_REG_RISCV_CSR | KVM_REG_RISCV_CSR_REG({member})",
        "KVM_REG_RISCV_CSR_REG",
    ),
    "riscv/timer": (
        "struct kvm_riscv_timer",
        "KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_TIMER | KVM_REG_RISCV_TIMER_REG({member})",
        "KVM_REG_RISCV_TIMER_REG",
    ),
}
# Families indexed by an enum's values: (enumerator prefix, id expression).
_ENUM_FAMILIES = {
    "riscv/isa_ext": ("KVM_RISCV_ISA_EXT_", "KVM_REG_RISCV | {ulong} | KVM_REG_RISCV_ISA_EXT | {name}"),
    "riscv/sbi_ext": (
        "KVM_RISCV_SBI_EXT_",
        "KVM_REG_RISCV | {ulong} | KVM_REG_RISCV_SBI_EXT | KVM_REG_RISCV_SBI_SINGLE | {name}",
    ),
}
_ULONG = "(sizeof(unsigned long) == 8 ? KVM_REG_SIZE_U64 : KVM_REG_SIZE_U32)"
# Families indexed by numbers, as get-reg-list lists them: (family, builder, expressions).
_INDEXED_FAMILIES = (
    ("arm64/sve", "KVM_REG_ARM64_SVE_ZREG", tuple(f"KVM_REG_ARM64_SVE_ZREG({n}, 0)" for n in range(32))),
    ("arm64/sve", "KVM_REG_ARM64_SVE_PREG", tuple(f"KVM_REG_ARM64_SVE_PREG({n}, 0)" for n in range(16))),
    ("arm64/sve", "KVM_REG_ARM64_SVE_FFR", ("KVM_REG_ARM64_SVE_FFR(0)",)),
)
_SIZES = {1: "KVM_REG_SIZE_U8", 2: "KVM_REG_SIZE_U16", 4: "KVM_REG_SIZE_U32", 8: "KVM_REG_SIZE_U64"}
_SIZES |= {16: "KVM_REG_SIZE_U128", 32: "KVM_REG_SIZE_U256", 64: "KVM_REG_SIZE_U512"}


def with_version(registers: HeaderRegisters, version: str | None) -> HeaderRegisters:
    return replace(registers, version=version)


def header_registers(headers: CHeaders) -> HeaderRegisters:
    """Every register id the headers define: object-like macros whose value is a ONE_REG id,
    and the members and enumerators of the families built by function-like macros."""
    names: dict[str, HeaderMacro] = {}
    for name, value in (*headers.macros.items(), *headers.enums.items()):
        path, line = headers.where(name)
        names[name] = HeaderMacro(name, value, path, line)
    found, families = {}, {}
    for name, macro in names.items():
        kind = register_family(macro.value & (1 << 64) - 1) if name in headers.macros else None
        if kind is not None:
            found[name] = (macro.value & (1 << 64) - 1, macro)
            families[name] = kind
    for family, (name, value, macro) in _built_registers(headers):
        if register_family(value) is not None and name not in found:
            found[name] = (value, macro)
            families[name] = family
    return HeaderRegisters(
        found, families, names, frozenset(headers.not_integers), layouts=dict(headers.structs), abi=headers.abi
    )


def _built_registers(headers: CHeaders) -> list[tuple[str, tuple[str, int, HeaderMacro]]]:
    built = []
    for family, (tag, expression, builder) in _STRUCT_FAMILIES.items():
        if builder not in headers.function_macros or tag not in headers.structs:
            continue
        path, line = headers.where(builder)
        for member, _, size in headers.leaves(tag):
            if size not in _SIZES:
                continue
            name = f"{builder}({member})"
            try:
                value = headers.evaluate(expression.format(size=_SIZES[size], member=member, ulong=_ULONG))
            except HeaderError:
                continue
            built.append((family, (name, value & (1 << 64) - 1, HeaderMacro(name, value, path, line))))
    for family, builder, expressions in _INDEXED_FAMILIES:
        if builder not in headers.function_macros:
            continue
        path, line = headers.where(builder)
        for expression in expressions:
            try:
                value = headers.evaluate(expression)
            except HeaderError:
                continue
            built.append((family, (expression, value & (1 << 64) - 1, HeaderMacro(expression, value, path, line))))
    for family, (prefix, expression) in _ENUM_FAMILIES.items():
        for enumerator in sorted(headers.enums):
            if not enumerator.startswith(prefix) or enumerator.endswith("_MAX"):
                continue
            try:
                value = headers.evaluate(expression.format(name=enumerator, ulong=_ULONG))
            except HeaderError:
                continue
            path, line = headers.where(enumerator)
            built.append((family, (enumerator, value & (1 << 64) - 1, HeaderMacro(enumerator, value, path, line))))
    return built


EMPTY_HEADER = HeaderRegisters({}, {}, {}, frozenset())  # nothing read


def headers_version(headers: Sequence[str], include_dirs: Sequence[str], abi: str, read: Reader | None) -> str | None:
    """ "6.1": the version <linux/version.h> beside the headers gives (LINUX_VERSION_CODE), or
    None where there is none (a kernel tree generates it at build time)."""
    places = [*include_dirs]
    places += [os.path.dirname(os.path.dirname(os.path.abspath(h))) for h in headers if not h.startswith("<")]
    try:
        from validator.kernel.cfront import read_c_headers  # pcpp, pycparser: only where a header is read

        code = read_c_headers(["<linux/version.h>"], places, abi, read).macros.get("LINUX_VERSION_CODE")
    except HeaderError:
        return None
    return f"{code >> 16}.{(code >> 8) & 0xFF}" if code else None


@frozen
class HeaderOptions:
    """How headers are read: the include directories, and the ABI (None: the spec's own)."""

    include_dirs: tuple[str, ...] = ()
    abi: str | None = None


@frozen
class HeaderCheck:
    """Specs checked together against headers: what the CROSSCHECK-stage rules judge. Everything
    checked together is "the spec": a register one file defines is not missing."""

    registers: tuple[m.Register, ...]  # every register with an id, the first of each name
    names: frozenset[str]  # every register name of the specs, with an id or not
    header: HeaderRegisters
    anchor: Span  # where H901 stands: the `# header:` line, else the api statement
    spec_ids: frozenset[int]
    spec_families: frozenset[str]
    header_ids: frozenset[int]
    header_families: frozenset[str]
    capabilities: tuple[m.Capability, ...]
    interfaces: tuple[m.Interface, ...]
    bitmaps: tuple[m.Register, ...]  # registers with named bits
    types: dict[str, m.Struct | m.Flags]  # the spec's declared structs, unions and flags
    ioctls: tuple[m.IoctlDecl, ...]
    error: str | None = None  # why the headers could not be read (E113); nothing else is judged then


def header_check(
    specs: list[ResolvedSpec], registers: HeaderRegisters, anchor: Span | None = None, error: str | None = None
) -> HeaderCheck:
    every: dict[str, m.Register] = {}
    capabilities: dict[str, m.Capability] = {}
    interfaces: dict[str, m.Interface] = {}
    types: dict[str, m.Struct | m.Flags] = {}
    ioctls: dict[str, m.IoctlDecl] = {}
    for spec in specs:
        for name, register in spec.registers.items():
            every.setdefault(name, register)
        for name, capability in spec.capabilities.items():
            if isinstance(capability, m.Capability):
                capabilities.setdefault(name, capability)
        for name, interface in spec.interfaces.items():
            if isinstance(interface, m.Interface):
                interfaces.setdefault(name, interface)
        for name, declared in spec.types.items():
            types.setdefault(name, declared)
        for name, ioctl in spec.ioctls.items():
            ioctls.setdefault(name, ioctl)
    with_ids = tuple(r for r in every.values() if r.id is not None)
    first = specs[0]
    header_ids = frozenset(value for value, _ in registers.by_name.values())
    return HeaderCheck(
        with_ids,
        frozenset(every),
        registers,
        anchor or (first.api.span if first.api else Span.point(first.root, 1, 1)),
        frozenset(r.id for r in with_ids if r.id is not None),
        frozenset(f for r in with_ids if r.id is not None and (f := register_family(r.id)) is not None),
        header_ids,
        frozenset(registers.families.values()),
        tuple(capabilities.values()),
        tuple(interfaces.values()),
        tuple(r for r in every.values() if r.bits),
        types,
        tuple(ioctls.values()),
        error,
    )


def bit_macros(header: HeaderRegisters, bit_name: str, width: int) -> list[HeaderMacro]:
    """The header's names for a bit: `..._BIT_NAME` macros or enumerators below the width."""
    pattern = re.compile(rf"(?:^|_)BIT_{re.escape(bit_name)}$")
    return [macro for name, macro in sorted(header.names.items()) if pattern.search(name) and 0 <= macro.value < width]


_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_]+")


def spec_name(header_name: str) -> str:
    """A register name the language accepts for a header's: `KVM_REG_ARM_CORE_REG(regs.pc)`
    becomes `KVM_REG_ARM_CORE_REG_REGS_PC`."""
    return _NOT_IN_NAME.sub("_", header_name).strip("_").upper() if "(" in header_name else header_name


def import_spec(registers: HeaderRegisters, families: list[str], prefix: str | None) -> list[dict[str, object]]:
    """The registers the headers define in the families (and under a name prefix), as data for
    the import template."""
    chosen = sorted(
        (
            (value, name, macro)
            for name, (value, macro) in registers.by_name.items()
            if (not families or registers.families[name] in families) and (prefix is None or name.startswith(prefix))
        ),
        key=lambda item: item[0],
    )
    return [
        {
            "name": spec_name(name),
            "header_name": name,
            "id": value,
            "width": 8 << ((value & SIZE_FIELD) >> 52),
            "family": registers.families[name],
            "source": f"{macro.path}:{macro.line}",
        }
        for value, name, macro in chosen
    ]


_IOCTL_DEFINITION = re.compile(r"^_IO(?P<dir>R|W|WR)?\s*\(\s*KVMIO\s*,\s*[^,()]+?\s*(?:,\s*(?P<arg>.+?))?\s*\)$")
_DIRECTIONS = {None: "none", "W": "in", "R": "out", "WR": "inout"}
# Scalar arguments whose size is the same on every ABI the tool knows (not long, not a pointer).
_C_SCALARS = {"int": "s32", "unsigned int": "u32", "unsigned": "u32", "long long": "s64", "unsigned long long": "u64"}
_PADDING = re.compile(r"^(?:__)?(?:pad|padding|reserved|rsvd|unused)\w*$")


def import_ioctls(headers: CHeaders, prefix: str | None) -> dict[str, object]:
    """The KVM ioctls the headers define (`_IO*(KVMIO, ...)`, under a name prefix), and the
    structs they copy, with everything they reach, as data for the import template."""
    ioctls, wanted = [], []
    for name in sorted(headers.macros):
        found = _IOCTL_DEFINITION.match(headers.definition(name))
        if found is None or (prefix is not None and not name.startswith(prefix)):
            continue
        value = headers.macros[name] & 0xFFFF_FFFF
        arg_text = " ".join((found.group("arg") or "").split())
        arg, todo = "", ""
        if arg_text.startswith(("struct ", "union ")):
            arg = arg_text.split()[1]
            wanted.append(arg_text)
        elif arg_text:
            arg = FIXED_WIDTH.get(arg_text, "") or _C_SCALARS.get(arg_text, "")
            todo = "" if arg else f"the argument is {arg_text}, which the language cannot say"
        path, line = headers.where(name)
        ioctls.append(
            {
                "name": name,
                "nr": value & 0xFF,
                "dir": _DIRECTIONS[found.group("dir")],
                "arg": arg,
                "todo": todo,
                "source": f"{path}:{line}",
            }
        )
    structs, skipped = _structs_reached(headers, wanted)
    declared = {str(s["name"]) for s in structs}
    for ioctl in ioctls:
        if ioctl["arg"] and ioctl["arg"] not in declared and ioctl["arg"] not in FIXED_WIDTH.values():
            ioctl["todo"] = f"the argument, {ioctl['arg']}, is not imported (see the end of the file)"
            ioctl["arg"] = ""
    return {"ioctls": ioctls, "structs": structs, "skipped": skipped}


def _structs_reached(headers: CHeaders, wanted: list[str]) -> tuple[list[dict[str, object]], list[str]]:
    """The structs in the order a declaration needs them (what a struct holds first)."""
    done: dict[str, dict[str, object] | None] = {}
    skipped: list[str] = []

    def visit(tag: str) -> None:
        if tag in done:
            return
        done[tag] = None  # a struct that holds itself ends here
        try:
            members = headers.members(tag)
        except HeaderError as exc:
            skipped.append(f"{tag}: {exc}")
            return
        cannot = [f"{m.name or '(unnamed)'} is {m.why}" for m in members if m.why and not m.type]
        if cannot:
            skipped.append(f"{tag}: {'; '.join(cannot)}")
            done.pop(tag)
            return
        for member in members:
            if member.tag:
                visit(member.tag)
        missing = [m.tag for m in members if m.tag and m.tag not in done]
        if missing:
            skipped.append(f"{tag}: it holds {', '.join(dict.fromkeys(missing))}, not imported")
            done.pop(tag)
            return
        fields = [
            {
                "kind": "pad" if _PADDING.match(member.name) else "field",
                "name": member.name,
                "type": member.type + (f"[{member.count}]" if member.count is not None else ""),
                "why": member.why,
            }
            for member in members
        ]
        keyword, name = tag.split(" ", 1)
        done.pop(tag)  # after what it holds
        path, line = headers.where(tag)
        done[tag] = {"keyword": keyword, "name": name, "fields": fields, "source": f"{path}:{line}"}

    for tag in dict.fromkeys(wanted):
        visit(tag)
    return [entry for entry in done.values() if entry is not None], skipped
