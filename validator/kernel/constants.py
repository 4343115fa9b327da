"""A header's named constants that userspace compiles in: flag bits (`#define X (1 << N)`,
`_BITUL(N)`, `BIT(N)`) and enumerators, each as the language's one-entry `flags` or `enum`.

One declaration per constant, named by the constant itself, so that the baseline's and the
proposal's pair by name whatever is inserted around them: a bit or an enumerator that now has
another number is B615 (an enumerator inserted in the middle shifts the ones after it), one
that is gone is B601. Grouping constants into sets by their prefixes would be a guess, and a
guess that changes with the patch would invent removals.
"""

from __future__ import annotations

import re

from validator.kernel.cfront import CHeaders
from validator.model.frozen import frozen

_SENTINEL = re.compile(r"(?:_MAX|_NR|_NUM|_COUNT|_LAST|_END)$")
_U32_MAX = (1 << 32) - 1
_U64_MAX = (1 << 64) - 1


@frozen
class Constant:
    name: str
    kind: str  # flags (number: a bit index) | enum (number: the value)
    number: int
    path: str
    line: int

    @property
    def type(self) -> str:
        limit = self.number if self.kind == "enum" else 1 << self.number
        return "u32" if limit <= _U32_MAX else "u64"


def header_constants(headers: CHeaders, taken: frozenset[str] = frozenset()) -> list[Constant]:
    """The headers' flag-bit macros and enumerators, by name; `taken`: names declared
    otherwise (registers, capabilities, ioctls), left out."""
    found = []
    for name, value in headers.macros.items():
        body = headers.definition(name)
        shifted = "<<" in body or "BIT" in body
        if shifted and 0 < value <= _U64_MAX and value & (value - 1) == 0 and name not in taken:
            found.append(Constant(name, "flags", value.bit_length() - 1, *headers.where(name)))
    for _, names in headers.enum_groups:
        # An enum's closing count (`KVM_DEV_TYPE_MAX`) grows with every value appended:
        # that is how it is meant to change.
        counted = names[:-1] if _SENTINEL.search(names[-1]) else names
        for name in counted:
            number = headers.enums.get(name)
            # (`#define KVM_DEV_TYPE_XICS KVM_DEV_TYPE_XICS` names the enumerator itself)
            if number is not None and 0 <= number <= _U64_MAX and name not in taken:
                found.append(Constant(name, "enum", number, *headers.where(name)))
    return sorted(found, key=lambda c: c.name)
