"""The layouts of a spec's declared structs and unions per ABI, and its ioctls' numbers.

A declared field's type is a fixed-width scalar (`u8`..`u64`, `s8`..`s64`), `ptr` (a user
pointer: 4 or 8 bytes, the ABI's), `u64ptr` (a pointer carried in a __u64), or a declared
struct, union or flags set, with an optional array length. Each is laid out as gcc lays out
the same C on the ABI (validator.model.abi: i386 aligns a u64 to 4): offsets, holes, the
tail. An ioctl's number is `_IOC(dir, 0xAE, nr, sizeof(arg))` on each ABI.
"""

from __future__ import annotations

from validator.model import spec as m
from validator.model.abi import ABIS, LONG_LONG, POINTER
from validator.model.frozen import frozen

SCALARS = {"u8": 1, "s8": 1, "u16": 2, "s16": 2, "u32": 4, "s32": 4, "u64": 8, "s64": 8}
POINTER_TYPES = ("ptr", "u64ptr")
KVMIO = 0xAE
DIRECTIONS = {"none": 0, "in": 1, "out": 2, "inout": 3}  # _IOC_NONE, _IOC_WRITE, _IOC_READ, both


class LayoutError(Exception):
    """A type the spec does not declare, or one that contains itself."""


@frozen
class Placed:
    """A struct field at its offset."""

    field: m.Field
    offset: int
    size: int


@frozen
class StructLayout:
    """A struct as the compiler of one ABI lays it out."""

    abi: str
    size: int
    align: int
    fields: tuple[Placed, ...]

    def holes(self) -> list[tuple[int, int, m.Field | None]]:
        """(offset, bytes, the field after the hole; None for the tail) of every implicit gap."""
        gaps: list[tuple[int, int, m.Field | None]] = []
        end = 0
        for placed in sorted(self.fields, key=lambda p: p.offset):
            if placed.offset > end:
                gaps.append((end, placed.offset - end, placed.field))
            end = max(end, placed.offset + placed.size)
        if self.size > end:
            gaps.append((end, self.size - end, None))
        return gaps


def type_size(
    types: dict[str, m.Struct | m.Flags], field_type: m.FieldType, abi: str, depth: int = 0
) -> tuple[int, int]:
    """(size, alignment) of a field type on an ABI."""
    if depth > 32:
        raise LayoutError(f"{field_type.name.text} contains itself")
    table = ABIS[abi]
    name = field_type.name.text
    if name in SCALARS:
        size = SCALARS[name]
        align = table.align(LONG_LONG) if size == 8 else size
    elif name == "ptr":
        size, align = table.size(POINTER), table.align(POINTER)
    elif name == "u64ptr":
        size, align = 8, table.align(LONG_LONG)
    elif name in types:
        declared = types[name]
        if isinstance(declared, m.Flags):
            return type_size(types, m.FieldType(declared.type), abi, depth + 1)
        layout = lay_out(types, declared, abi, depth + 1)
        size, align = layout.size, layout.align
    else:
        raise LayoutError(f"{name} is not a type the spec declares")
    count = 1 if field_type.count is None else field_type.count
    return size * count, align


def lay_out(types: dict[str, m.Struct | m.Flags], struct: m.Struct, abi: str, depth: int = 0) -> StructLayout:
    placed = []
    offset = size = 0
    align = 1
    for field in struct.fields:
        field_size, field_align = type_size(types, field.type, abi, depth)
        start = 0 if struct.union else -(-offset // field_align) * field_align
        placed.append(Placed(field, start, field_size))
        align = max(align, field_align)
        offset = start + field_size
        size = max(size, offset)
    size = -(-size // align) * align
    return StructLayout(abi, size, align, tuple(placed))


def ioctl_number(direction: str, nr: int, size: int) -> int:
    """`_IOC(dir, KVMIO, nr, size)` as include/uapi/asm-generic/ioctl.h builds it."""
    return DIRECTIONS[direction] << 30 | (size & 0x3FFF) << 16 | KVMIO << 8 | nr & 0xFF


def ioctl_size(types: dict[str, m.Struct | m.Flags], ioctl: m.IoctlDecl, abi: str) -> int:
    """The argument's size the number carries: none for `_IO`."""
    if ioctl.dir in (None, "none") or ioctl.arg is None:
        return 0
    return type_size(types, ioctl.arg, abi)[0]
