"""The typed model of a `.uapi` file: plain frozen data carrying source spans.

The builder creates these from the parse tree; nothing here parses, judges or prints.
"""

from __future__ import annotations

from dataclasses import field

from validator.model.findings import Problem
from validator.model.frozen import frozen
from validator.model.spans import Span

# Lifecycle events in their order (memslot_create, also an event, is unordered against them).
EVENT_ORDER = ("vm_create", "vcpu_create", "vcpu_init", "finalize", "first_run")
WIDTHS = (8, 16, 32, 64, 128, 256, 512, 1024, 2048)
# Bounds on what a spec's numbers may say (E107 names them): what the executable spec can run
# in bounded time and memory, generously above any real kernel (KVM_MAX_VCPUS is 4096 on x86).
MAX_VCPUS = 65_536
MAX_VCPU_COUNTS = 64  # vCPU counts one scenario runs at
MAX_HOST_THREADS = 65_536
MAX_DURATION_NS = 10**12  # 1000 s per ioctl or lock
MAX_BUDGET = 2**63 - 1
# A literal longer than this many digits is read as OVERSIZED, a value above every bound,
# rather than converted (Python refuses decimal strings over 4300 digits, and no field of the
# language takes more than 64 bits).
MAX_LITERAL_DIGITS = 80
OVERSIZED = 1 << 512


def shown_number(value: int, hexadecimal: bool = False) -> str:
    """A number for a message; OVERSIZED as what it stands for."""
    if value >= OVERSIZED:
        return f"a literal of more than {MAX_LITERAL_DIGITS} digits"
    return f"0x{value:x}" if hexadecimal else str(value)


@frozen
class Name:
    """A name as written, where it was written."""

    text: str
    span: Span


@frozen
class Attr:
    """Where an attribute line of a declaration is."""

    keyword: str
    span: Span


@frozen
class RepeatedAttr:
    """An attribute given twice in one declaration (the first one counts)."""

    keyword: str
    span: Span
    first: Span


@frozen
class Api:
    """`api "kvm/arm64" version "6.2"`: the UAPI the file describes."""

    name: str
    version: str
    span: Span


@frozen
class Include:
    """`include "file.uapi"`: another file of the same spec."""

    path: str
    span: Span


@frozen
class Lock:
    """`lock NAME : scope`: a lock a write takes, and how far it reaches."""

    name: str
    span: Span
    scope: str
    description: str | None = None


@frozen
class Writable:
    """`writable always | never | before EVENT [else ERRNO]`: until when a register may be set."""

    kind: str  # always | never | before
    span: Span
    event: str | None = None
    errno: Name | None = None


@frozen
class Rewrite:
    """`rewrite same_value ok | ERRNO`: what writing the current value after the deadline gets."""

    span: Span
    errno: Name | None = None  # None: rewriting the current value is accepted

    @property
    def same_value_ok(self) -> bool:
        return self.errno is None


@frozen
class Uniform:
    """`uniform ...`: whether every vCPU must hold the same value, and on what basis."""

    kind: str  # enforced | last_wins | none
    span: Span
    errno: Name | None = None
    basis: str | None = None  # contract | implementation (enforced only)
    opt_in: Name | None = None  # none only


@frozen
class Reset:
    """`reset all | none | VALUE`: what a vCPU reset leaves in a register."""

    kind: str  # all | none | value
    span: Span
    value: int | None = None


@frozen
class Reserved:
    """`reserved reject ERRNO | ignore`: what a write of undeclared bits gets."""

    kind: str  # reject | ignore
    span: Span
    errno: Name | None = None


@frozen
class Bit:
    """One line of a `bits` block: an index and its name."""

    index: int
    name: str
    span: Span
    since: str | None = None


@frozen
class Capability:
    """`capability NAME { ... }`: a KVM capability, its number, kind and constraints."""

    name: str
    span: Span
    scope: str
    kind: str | None = None
    number: int | None = None  # its KVM_CAP_* value
    before: str | None = None
    before_errno: Name | None = None  # what enabling it after `before` gets (`before EVENT else ERRNO`)
    # Offered only where the host has this (TSC scaling hardware, a vendor module): conform
    # does not count a 0 from KVM_CHECK_EXTENSION against the spec.
    host: str | None = None
    # What KVM_CHECK_EXTENSION answers where offered: bool (1) | count (a number) | mask.
    value: str | None = None
    supersedes: tuple[Name, ...] = ()  # the capabilities this one replaces
    since: str | None = None
    doc: str | None = None
    attrs: tuple[Attr, ...] = ()
    repeated: tuple[RepeatedAttr, ...] = ()


@frozen
class Ioctl:
    """One ioctl of an interface: what it does (get, set, list...) and its name."""

    role: str  # get | set | has | list
    name: Name


@frozen
class Interface:
    """`interface NAME { ... }`: an access path (an fd, its ioctls, locks and capability)."""

    name: str
    span: Span
    scope: str
    ioctls: tuple[Ioctl, ...] = ()
    locks: tuple[Name, ...] = ()
    cap: Name | None = None
    batch: bool = False  # one set ioctl carries many registers (KVM_SET_MSRS)
    since: str | None = None
    doc: str | None = None
    attrs: tuple[Attr, ...] = ()
    repeated: tuple[RepeatedAttr, ...] = ()

    def ioctl(self, role: str) -> str | None:
        for ioctl in self.ioctls:
            if ioctl.role == role:
                return ioctl.name.text
        return None

    @property
    def enumerable(self) -> bool:
        return self.ioctl("list") is not None


@frozen
class Register:
    """`register NAME { ... }`: one piece of guest state and every fact the rules judge."""

    name: str
    span: Span
    id: int | None = None
    width: int | None = None
    scope: str | None = None
    hint: Name | None = None
    via: tuple[Name, ...] = ()
    locks: tuple[Name, ...] = ()
    migrate: bool | None = None
    writable: Writable | None = None
    rewrite: Rewrite | None = None
    uniform: Uniform | None = None
    reset: Reset | None = None
    reserved: Reserved | None = None
    bits: tuple[Bit, ...] = ()
    opt_in: Name | None = None
    since: str | None = None
    doc: str | None = None
    encoding: tuple[int, int, int, int, int] | None = None  # sysreg(op0, op1, crn, crm, op2)
    attrs: tuple[Attr, ...] = ()
    repeated: tuple[RepeatedAttr, ...] = ()


@frozen
class Feature:
    """`feature NAME { ... }`: a guest feature, the path it is set through, its uniformity."""

    name: str
    span: Span
    via: Name | None = None
    uniform: Uniform | None = None
    since: str | None = None
    doc: str | None = None
    attrs: tuple[Attr, ...] = ()
    repeated: tuple[RepeatedAttr, ...] = ()


@frozen
class Scenario:
    """`scenario NAME : kind { ... }`: a VMM operation to run on the spec and price."""

    name: str
    span: Span
    kind: str  # restore | hotplug | replug | reset
    vmm: str | None = None
    vcpus: tuple[int, ...] = ()
    host_threads: int | None = None
    cost_ioctl_ns: int | None = None
    cost_lock_ns: int | None = None
    budget_serialized: int | None = None
    budget_ioctls: int | None = None
    budget_blackout_ns: int | None = None
    doc: str | None = None
    attrs: tuple[Attr, ...] = ()
    repeated: tuple[RepeatedAttr, ...] = ()


@frozen
class Expect:
    """`# expect: CODE[, CODE...]` — these findings, on this line, and no others."""

    line: int
    codes: tuple[str, ...]
    span: Span


@frozen
class Allow:
    """`# allow: CODE[, CODE...] -- reason`: suppress these findings on the target line.

    The target is the comment's own line, or for a comment on a line of its own, the next
    line of code (the declaration below it).
    """

    line: int
    codes: tuple[str, ...]
    reason: str
    span: Span
    target_line: int


@frozen
class Todo:
    """`# todo: what` — something the author (or `import`) left to fill in."""

    line: int
    text: str
    span: Span


@frozen
class HeaderDirective:
    """`# header: PATH` — a C UAPI header the spec is cross-checked against."""

    path: str
    span: Span


@frozen
class BaselineDirective:
    """`# baseline: REF`: what diff mode compares this file with."""

    path: str
    span: Span


# -- ioctls, structs and flags (issue 19): the argument side of the UAPI ---------------------


@frozen
class FieldType:
    """A field's or argument's type: a fixed-width scalar (`u8`..`u64`, `s8`..`s64`), `ptr` (a
    user pointer), `u64ptr` (a pointer carried in a __u64), or a declared struct or flags set;
    an array when `count` is given."""

    name: Name
    count: int | None = None

    @property
    def span(self) -> Span:
        return self.name.span


@frozen
class Field:
    """One line of a struct: a field (its type and direction) or a pad (how it is checked)."""

    kind: str  # field | pad
    name: Name
    type: FieldType
    span: Span  # the whole line
    direction: str | None = None  # in | out | inout (fields)
    # `out on x86, arm64`: the architectures whose kernel writes this output; () = all that
    # offer the ioctl.
    written_on: tuple[Name, ...] = ()
    check: str | None = None  # pads: "zero" (refused otherwise, with `errno`) | "ignore"
    errno: Name | None = None


@frozen
class Struct:
    """`struct NAME { ... }` (or union): an ioctl argument's layout."""

    name: str
    span: Span
    union: bool = False
    fields: tuple[Field, ...] = ()
    since: str | None = None
    doc: str | None = None
    attrs: tuple[Attr, ...] = ()
    repeated: tuple[RepeatedAttr, ...] = ()


@frozen
class Flags:
    """`flags NAME : TYPE { INDEX NAME ... }`, or an `enum` of the same shape whose entries
    are values (`kind`)."""

    name: str
    span: Span
    type: Name  # u8..u64
    bits: tuple[Bit, ...] = ()
    unknown: Reserved | None = None  # what a set with undefined bits gets: reject ERRNO | ignore
    since: str | None = None
    doc: str | None = None
    attrs: tuple[Attr, ...] = ()
    repeated: tuple[RepeatedAttr, ...] = ()
    kind: str = "flags"  # flags: each entry a bit index | enum: each entry a value

    @property
    def entry(self) -> str:
        """What an entry's number is, in messages: a bit, or a value."""
        return "value" if self.kind == "enum" else "bit"


@frozen
class IoctlDecl:
    """`ioctl NAME { ... }`: an ioctl's number, direction and argument."""

    name: str
    span: Span
    scope: str  # the fd it is issued on: system | vm | vcpu | device
    nr: int | None = None
    dir: str | None = None  # none | in | out | inout (_IO, _IOW, _IOR, _IOWR)
    arg: FieldType | None = None
    arch: tuple[Name, ...] = ()  # the architectures whose KVM offers it; () = the spec's own
    cap: Name | None = None
    extend: tuple[Name, ...] = ()  # flags | size | new_ioctl
    since: str | None = None
    doc: str | None = None
    attrs: tuple[Attr, ...] = ()
    repeated: tuple[RepeatedAttr, ...] = ()


@frozen
class Abis:
    """`abi x86_64, i386`: the ABIs whose layouts of the spec's structs must agree."""

    names: tuple[Name, ...]
    span: Span


Declaration = Lock | Capability | Interface | Register | Feature | Scenario | Struct | Flags | IoctlDecl


def attr_span(decl: Declaration, keyword: str) -> Span:
    """Where a declaration's attribute line is; the declaration's own span if it has none."""
    attrs: tuple[Attr, ...] = getattr(decl, "attrs", ())
    for attr in attrs:
        if attr.keyword == keyword:
            return attr.span
    return decl.span


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """`"5.19"` as ((0, 5), (0, 19)): numeric parts compare as numbers, and any version,
    however odd ("6.2-rc1"), still compares with every other."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in version.split("."))


@frozen
class SpecFile:
    """One parsed file, in source order."""

    path: str
    api: tuple[Api, ...] = ()
    includes: tuple[Include, ...] = ()
    declarations: tuple[Declaration, ...] = ()
    expects: tuple[Expect, ...] = ()
    allows: tuple[Allow, ...] = ()
    baseline: BaselineDirective | None = None
    todos: tuple[Todo, ...] = ()
    headers: tuple[HeaderDirective, ...] = ()
    abis: tuple[Abis, ...] = ()
    # Where the text stops being the language (E101): then the file declares nothing known.
    syntax_error: Problem | None = None
    # The text as read; split into lines only when a report quotes it (a tuple of lines per
    # file costs a tenth of the memory of a 100k-register check).
    text: str = field(default="", repr=False, compare=False)
