"""The one reader of every file the tool opens: specs, includes, baselines, headers, register
lists, language-server documents.

A pre-merge check reads files a stranger wrote, in a CI job that holds secrets. So a read
resolves the real path (symbolic links followed) and, where the file belongs to a root,
refuses one that leaves it; takes regular files only (a FIFO would block, a device never
ends); stops at one size limit; decodes one way (UTF-8, a BOM dropped); and splits lines one
way, at LF, the way every position the tool reports counts them.
"""

from __future__ import annotations

import os
import stat

MAX_FILE_BYTES = 16 * 1024 * 1024  # a 40k-register spec; larger specs are split by include


class FileProblem(OSError):
    """A file the reader will not read. `kind`: outside | not-regular | too-large | io."""

    def __init__(self, path: str, kind: str, message: str) -> None:
        super().__init__(message)
        self.path, self.kind, self.message = path, kind, message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def inside(path: str, root: str) -> bool:
    """Whether `path` (symbolic links resolved) lies within `root` (resolved too)."""
    if "\0" in path or "\0" in root:
        return False
    real, real_root = os.path.realpath(path), os.path.realpath(root or ".")
    return os.path.commonpath([real, real_root]) == real_root


def read_bytes(path: str, *, root: str | None = None, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file within `root` (when given), at most `limit` of them."""
    if root is not None and not inside(path, root):
        raise FileProblem(path, "outside", f"leaves {root or '.'} (through a symbolic link); it is not read")
    try:
        info = os.stat(path)
    except OSError as exc:
        raise FileProblem(path, "io", f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(path, "not-regular", "not a regular file; it is not read")
    if info.st_size > limit:
        raise FileProblem(path, "too-large", f"the file is {info.st_size} bytes; the limit is {limit} bytes")
    try:
        # O_NONBLOCK: should the file have become a FIFO since the stat, the open does not wait.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise FileProblem(path, "io", f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:  # a file that grew, or one whose size the kernel does not tell
        raise FileProblem(path, "too-large", f"the file is over the limit of {limit} bytes")
    return data


def decode(data: bytes) -> str:
    """UTF-8, a byte-order mark dropped; raises UnicodeDecodeError (the caller places it)."""
    return data.decode("utf-8-sig")


def split_lines(text: str) -> list[str]:
    """Lines as positions count them: at LF only, a CR before it dropped. A form feed, a
    vertical tab, NEL or U+2028 is a character of its line, as the lexer sees it."""
    lines = text.split("\n")
    if lines and lines[-1] == "" and text:
        lines.pop()
    if "\r" not in text:
        return lines
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_text(path: str, *, root: str | None = None, limit: int = MAX_FILE_BYTES) -> str:
    """A regular file's text, decoded the one way; raises FileProblem or UnicodeDecodeError."""
    return decode(read_bytes(path, root=root, limit=limit))
