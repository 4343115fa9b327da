"""Source positions: one convention for the whole tool.

Lines and columns are 1-based and the end is exclusive, as lark reports them and as
SARIF expects them (SARIF rejects column 0).

A Span is an immutable named tuple rather than a frozen dataclass: a large spec holds a
quarter of a million of them, and a frozen dataclass takes five times as long to make
(its `__init__` goes through `object.__setattr__` for each field). Equality, hashing,
ordering (field by field) and repr are the same.
"""

from __future__ import annotations

from typing import NamedTuple


class Span(NamedTuple):
    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def of(cls, path: str, item: object) -> Span:
        """The span of a lark Token or of a tree's `meta`."""
        return cls(
            path,
            item.line,  # type: ignore[attr-defined]
            item.column,  # type: ignore[attr-defined]
            item.end_line,  # type: ignore[attr-defined]
            item.end_column,  # type: ignore[attr-defined]
        )

    @classmethod
    def point(cls, path: str, line: int, column: int) -> Span:
        return cls(path, line, column, line, column + 1)
