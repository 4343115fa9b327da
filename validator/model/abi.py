"""The C type sizes of each ABI the header reader lays structs out for.

A table per ABI, as gcc sees the target: the size and the alignment a scalar has as a struct
member (i386 aligns `long long` and `double` to 4 there, though gcc prefers 8 for variables),
and the macros the compiler predefines that UAPI headers test (`__x86_64__`, `__LP64__`,
`__SIZEOF_LONG__`, ...). Adding an ABI is a table entry; `tests/test_cfront_gcc.py` checks
each against the compiler where one is installed.
"""

from __future__ import annotations

from validator.model.frozen import frozen

# Scalar kinds, as the front end names a C type after reading its specifiers.
CHAR, SHORT, INT, LONG, LONG_LONG, INT128, POINTER, FLOAT, DOUBLE, LONG_DOUBLE, BOOL = (
    "char",
    "short",
    "int",
    "long",
    "long long",
    "__int128",
    "pointer",
    "float",
    "double",
    "long double",
    "_Bool",
)


@frozen
class Abi:
    """What the C compiler of one ABI gives each kind of value (size, alignment, signed char)."""

    name: str
    sizes: dict[str, tuple[int, int]]  # kind -> (size, alignment as a struct member)
    char_signed: bool
    max_align: int  # __attribute__((aligned)) without a number; __BIGGEST_ALIGNMENT__
    defines: tuple[tuple[str, str], ...]  # the target's predefined macros

    def size(self, kind: str) -> int:
        return self.sizes[kind][0]

    def align(self, kind: str) -> int:
        return self.sizes[kind][1]

    @property
    def has_int128(self) -> bool:
        return INT128 in self.sizes


_COMMON = (
    ("__GNUC__", "12"),
    ("__GNUC_MINOR__", "2"),
    ("__STDC__", "1"),
    ("__STDC_VERSION__", "201710L"),
    ("__STDC_HOSTED__", "1"),
    ("__linux__", "1"),
    ("__linux", "1"),
    ("__unix__", "1"),
    ("__CHAR_BIT__", "8"),
    ("__ORDER_LITTLE_ENDIAN__", "1234"),
    ("__ORDER_BIG_ENDIAN__", "4321"),
    ("__BYTE_ORDER__", "__ORDER_LITTLE_ENDIAN__"),
    ("__SIZEOF_INT__", "4"),
    ("__SIZEOF_SHORT__", "2"),
    ("__SIZEOF_LONG_LONG__", "8"),
)

_LP64 = {
    CHAR: (1, 1),
    BOOL: (1, 1),
    SHORT: (2, 2),
    INT: (4, 4),
    LONG: (8, 8),
    LONG_LONG: (8, 8),
    INT128: (16, 16),
    POINTER: (8, 8),
    FLOAT: (4, 4),
    DOUBLE: (8, 8),
    LONG_DOUBLE: (16, 16),
}
_LP64_DEFINES = (
    ("__LP64__", "1"),
    ("_LP64", "1"),
    ("__SIZEOF_LONG__", "8"),
    ("__SIZEOF_POINTER__", "8"),
    ("__SIZEOF_INT128__", "16"),
)

ABIS: dict[str, Abi] = {
    "x86_64": Abi(
        "x86_64",
        _LP64,
        True,
        16,
        (*_COMMON, *_LP64_DEFINES, ("__x86_64__", "1"), ("__x86_64", "1"), ("__amd64__", "1"), ("__amd64", "1")),
    ),
    "i386": Abi(
        "i386",
        {
            CHAR: (1, 1),
            BOOL: (1, 1),
            SHORT: (2, 2),
            INT: (4, 4),
            LONG: (4, 4),
            LONG_LONG: (8, 4),
            POINTER: (4, 4),
            FLOAT: (4, 4),
            DOUBLE: (8, 4),
            LONG_DOUBLE: (12, 4),
        },
        True,
        16,
        (
            *_COMMON,
            ("__i386__", "1"),
            ("__i386", "1"),
            ("i386", "1"),
            ("__ILP32__", "1"),
            ("_ILP32", "1"),
            ("__SIZEOF_LONG__", "4"),
            ("__SIZEOF_POINTER__", "4"),
        ),
    ),
    "aarch64": Abi(
        "aarch64",
        _LP64,
        False,
        16,
        (*_COMMON, *_LP64_DEFINES, ("__aarch64__", "1"), ("__AARCH64EL__", "1"), ("__CHAR_UNSIGNED__", "1")),
    ),
    "riscv64": Abi(
        "riscv64",
        _LP64,
        False,
        16,
        (*_COMMON, *_LP64_DEFINES, ("__riscv", "1"), ("__riscv_xlen", "64"), ("__CHAR_UNSIGNED__", "1")),
    ),
}


# The architectures an ioctl may be offered on (`arch`, a field's `out on`), as the kernel's
# arch/ folders name them, with the ABIs of each that this tool lays out.
ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "x86": ("x86_64", "i386"),
    "arm64": ("aarch64",),
    "riscv": ("riscv64",),
    "s390": (),
    "powerpc": (),
    "loongarch": (),
    "mips": (),
}


def architecture_of_api(api: str | None) -> str:
    """The architecture a spec's `api` name is about (`kvm/arm64` -> arm64); x86 where the
    name says nothing, as for `abi_of_api`."""
    abi = abi_of_api(api)
    return next(arch for arch, abis in ARCHITECTURES.items() if abi in abis)


def abi_of_api(api: str | None) -> str:
    """The ABI a spec's headers are read for, from its `api` name (`kvm/arm64` -> aarch64);
    x86_64 where the name says nothing (the machine most readers are on)."""
    architecture = (api or "").rsplit("/", 1)[-1]
    return {"arm64": "aarch64", "aarch64": "aarch64", "riscv": "riscv64", "riscv64": "riscv64", "i386": "i386"}.get(
        architecture, "x86_64"
    )
