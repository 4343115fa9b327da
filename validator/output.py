"""Writing reports: to stdout, or atomically to a file (never a half-written file)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile


class OutputError(Exception):
    pass


def write_text(text: str, destination: str | None) -> None:
    if destination is None or destination == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    folder = os.path.dirname(os.path.abspath(destination))
    if not os.path.isdir(folder):
        raise OutputError(f"{destination}: the folder {folder} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=".uapi-validator-", dir=folder)
    except OSError as exc:
        raise OutputError(f"{destination}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, destination)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise OutputError(f"{destination}: cannot write: {exc.strerror or exc}") from None
        raise
