"""The language's literals: their patterns (shared by the scanner and the attribute table) and
their values (shared by the builder and the table's line readers)."""

from __future__ import annotations

import re

from validator.model import spec as m

WORD = "[A-Za-z_][A-Za-z0-9_]*"
INT = r"0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*|0[bB][01](?:_?[01])*|[0-9](?:_?[0-9])*"
STRING = r'"(?:[^"\\\n]|\\["\\])*"'
SP = r"[ \t\f]+"  # the blanks between the words of a line
NAMES = rf"{WORD}(?:[ \t\f]*,[ \t\f]*{WORD})*"
EVENT = "vm_create|vcpu_create|vcpu_init|finalize|first_run|memslot_create"

_DURATION = re.compile(r"([0-9_]+)(ns|us|ms|s)")
_NS_PER_UNIT = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def parse_int(text: str) -> int:
    digits = text.replace("_", "")
    if len(digits) > m.MAX_LITERAL_DIGITS:
        return m.OVERSIZED
    # Decimal, 0x hex or 0b binary; a decimal with leading zeros is still decimal (int(, 0)
    # would refuse it, and the language has no octal).
    return int(digits, 0) if digits[:2].lower() in ("0x", "0b") else int(digits, 10)


def parse_duration_ns(text: str) -> int:
    number, unit = _DURATION.fullmatch(text).groups()  # type: ignore[union-attr]
    digits = number.replace("_", "")
    return m.OVERSIZED if len(digits) > m.MAX_LITERAL_DIGITS else int(digits) * _NS_PER_UNIT[unit]


def unquote(text: str) -> str:
    inner = text[1:-1]
    # Most strings hold no escape: slicing them is ten times quicker than the substitution.
    return re.sub(r"\\(.)", r"\1", inner) if "\\" in inner else inner
