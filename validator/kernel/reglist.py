"""The register lists of the kernel's get-reg-list selftests, read as the compiler reads them.

`tools/testing/selftests/kvm/{aarch64,arm64,riscv}/get-reg-list.c` keep each list as a C
array whose elements are macro expressions (`ARM64_SYS_REG(3, 0, 0, 4, 0)`,
`KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.pc)`).
Each element is evaluated with the UAPI headers and the file's own `#define`s
(validator.kernel.cfront). An element that cannot be evaluated is an error naming its line:
a list read as "no registers" would report every register as vanished, or none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from validator.kernel.cfront import HeaderError, read_c_headers
from validator.model.frozen import frozen

# `static __u64 base_regs[] = { ... };` (const, and __u64 spelled uint64_t, too).
_ARRAY = re.compile(r"\b(?:__u64|uint64_t|u64)\s+(\w+)\s*\[\s*\]\s*=\s*\{", re.S)
_DEFINE = re.compile(r"^[ \t]*#[ \t]*define\b(?:\\\n|[^\n])*", re.M)
# What the selftests' own headers define that UAPI headers of some versions lack.
_SELFTEST_PRELUDE = """
#ifndef KVM_REG_SIZE_ULONG
#if __SIZEOF_LONG__ == 8
#define KVM_REG_SIZE_ULONG KVM_REG_SIZE_U64
#else
#define KVM_REG_SIZE_ULONG KVM_REG_SIZE_U32
#endif
#endif
"""


class RegisterListError(Exception):
    """A list that cannot be read: one line, with file:line."""


@frozen
class ListedRegister:
    id: int
    name: str  # the element's comment (`CSSELR_EL1`), else its expression
    array: str
    line: int


def is_c_register_list(text: str) -> bool:
    return _ARRAY.search(_without_comments(text)) is not None


def read_register_lists(
    text: str, path: str, headers: Sequence[str], include_dirs: Sequence[str], abi: str
) -> list[ListedRegister]:
    """Every element of every `__u64 NAME[] = {...}` array of a selftest source, evaluated."""
    # Continuation lines joined here: each definition reaches the preprocessor on one line.
    defines = "\n".join(match.group().replace("\\\n", " ") for match in _DEFINE.finditer(_without_comments(text)))
    try:
        evaluator = read_c_headers(headers, include_dirs, abi, extra=_SELFTEST_PRELUDE + defines + "\n")
    except HeaderError as exc:
        raise RegisterListError(f"{path}: the headers cannot be read: {exc}") from None
    listed = []
    for array, line, expression, comment in _elements(text):
        try:
            value = evaluator.evaluate(expression)
        except HeaderError as exc:
            shown = " ".join(expression.split())[:80]
            hint = "" if headers else " (name the headers that define it: --header <linux/kvm.h> -I DIR)"
            raise RegisterListError(f"{path}:{line}: cannot evaluate `{shown}` in {array}[]: {exc}{hint}") from None
        listed.append(ListedRegister(value & (1 << 64) - 1, comment or " ".join(expression.split()), array, line))
    if not listed:
        raise RegisterListError(f"{path}: no `__u64 NAME[] = {{...}}` register array with an element")
    return listed


def _without_comments(text: str) -> str:
    """Comments blanked out, newlines kept (so offsets still give line numbers)."""
    return re.sub(r"/\*.*?\*/|//[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group()), text, flags=re.S)


def _elements(text: str) -> list[tuple[str, int, str, str]]:
    """(array, line, expression, comment) of each element, in order."""
    plain = _without_comments(text)
    found = []
    for match in _ARRAY.finditer(plain):
        start = match.end()
        end = plain.find("};", start)
        if end < 0:
            line = plain.count("\n", 0, match.start()) + 1
            raise RegisterListError(f"{match.group(1)}[] at line {line} never closes")
        position = start
        for piece in _top_level_split(plain[start:end]):
            expression = piece.strip()
            if expression:
                offset = position + len(piece) - len(piece.lstrip())
                line = plain.count("\n", 0, offset) + 1
                found.append((match.group(1), line, expression, _comment_on(text, offset)))
            position += len(piece) + 1
    return found


def _top_level_split(body: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for char in body:
        if char == "," and depth == 0:
            pieces.append("".join(current))
            current = []
            continue
        depth += char in "([{"
        depth -= char in ")]}"
        current.append(char)
    pieces.append("".join(current))
    return pieces


def _comment_on(text: str, offset: int) -> str:
    """The `/* NAME */` comment on the element's line, if any."""
    line_end = text.find("\n", offset)
    found = re.search(r"/\*\s*(.*?)\s*\*/", text[offset : line_end if line_end >= 0 else None])
    return found.group(1) if found else ""
