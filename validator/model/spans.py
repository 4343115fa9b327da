"""Source positions: one convention for the whole tool.

Lines and columns are 1-based and the end is exclusive, as lark reports them and as
SARIF expects them (SARIF rejects column 0).

A Span is an immutable named tuple rather than a frozen class of the model (`@frozen`): a
large spec holds a quarter of a million of them, a tuple is the quickest immutable object
Python makes, and it orders field by field, as spans sort. Equality, hashing and repr are
those of a dataclass.
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
    def between(cls, path: str, first: object, last: object) -> Span:
        """From where one token (or meta) starts to where another ends."""
        line, column = start_of(first)
        end_line, end_column = end_of(last)
        return cls(path, line, column, end_line, end_column)

    @classmethod
    def point(cls, path: str, line: int, column: int) -> Span:
        return cls(path, line, column, line, column + 1)


# lark types a token's positions as optional (a token made by hand may have none); every token
# the scanner and the parser make has them. These two read them, in this one place.
def start_of(item: object) -> tuple[int, int]:
    """(line, column) where a lark Token or a tree's `meta` starts."""
    return item.line, item.column  # type: ignore[attr-defined]


def end_of(item: object) -> tuple[int, int]:
    """(end line, end column) where a lark Token or a tree's `meta` ends."""
    return item.end_line, item.end_column  # type: ignore[attr-defined]
