"""What the C header reader (validator.kernel.cfront) gives and how it fails, apart from the
reader itself: the rules and the cross-check use these without loading pcpp and pycparser,
which only a run that reads a header needs."""

from __future__ import annotations

from collections.abc import Callable

from validator.model.frozen import frozen

Reader = Callable[[str], bytes]  # reads a file's bytes (a revision's, for git:REV)


class HeaderError(Exception):
    """A header that cannot be read: one line, with file:line where there is one."""


@frozen
class Layout:
    """A struct's or union's layout on one ABI: bytes, and each member's byte offset.
    Members of anonymous structs and unions are listed by their own names, as `offsetof`
    takes them; bitfields have no byte offset and are not listed."""

    size: int
    align: int
    members: dict[str, int]


@frozen
class Member:
    """A struct's member as the language can say it: `type` a fixed-width scalar, `ptr` or a
    struct's name (`tag` then names it), or empty with `why` it cannot be said."""

    name: str
    type: str
    tag: str | None
    why: str
    count: int | None = None


# The UAPI's fixed-width typedefs (linux/types.h, asm-generic/int-ll64.h).
FIXED_WIDTH = {f"__{s}{n}": f"{s}{n}" for s in ("u", "s") for n in (8, 16, 32, 64)}
FIXED_WIDTH |= {f"__{e}{n}": f"u{n}" for e in ("le", "be") for n in (16, 32, 64)}
