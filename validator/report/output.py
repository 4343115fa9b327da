"""The one writer of every output: stdout, or a file replaced atomically.

A file is never half-written (a temporary beside it is renamed over it), and the writer never
destroys what it should not: it refuses a path that is not a regular file (a device, a FIFO,
a folder), a read-only file, and a file the same run reads (the spec being checked); through
a symbolic link it rewrites the link's target and keeps the link. A replaced file keeps its
mode; a new file gets the mode the umask gives (0644 under the usual 022), never the
temporary's private 0600.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterable


class OutputError(Exception):
    pass


class TemplateProblem(Exception):
    """A template (most likely a project's own, from --template-dir) cannot render. Declared
    here, not beside jinja2 in render.py, so that catching it loads no template engine."""


def _umask() -> int:
    # Python can only read the umask by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def resolve_destination(destination: str, inputs: Iterable[str] = ()) -> tuple[str, int]:
    """The regular file to replace (a link's target) and the mode it must have afterwards.

    Raises OutputError for anything the writer must not replace.
    """
    target = os.path.realpath(destination)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise OutputError(f"{destination}: the folder {os.path.dirname(os.path.abspath(destination))} does not exist")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target, 0o666 & ~_umask()
    except OSError as exc:
        raise OutputError(f"{destination}: cannot write: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"{destination}: not a regular file; it is not replaced (leave out -o to write to stdout)")
    if not info.st_mode & 0o222:
        raise OutputError(f"{destination}: the file is read-only; it is not replaced")
    for path in inputs:
        if _same_file(target, path):
            raise OutputError(f"{destination}: this run reads that file; writing there would overwrite an input")
    return target, stat.S_IMODE(info.st_mode)


def _write_stdout(text: str) -> None:
    stream = sys.stdout
    if stream is None:
        raise OutputError("standard output is closed; name a file with -o")
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError) as exc:  # a closed pipe, a full disk (/dev/full), a closed file
        _quiet_stdout()
        raise OutputError(f"cannot write to standard output: {getattr(exc, 'strerror', None) or exc}") from None


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush at exit does not
    fail again and print a traceback after the one-line error."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _temporary_beside(target: str) -> tuple[int, str]:
    """A new file of mode 0600 in the target's folder, open for writing, and its path: what
    tempfile.mkstemp does, without importing tempfile, shutil and random into every run that
    writes a report (5 ms of a cold start). O_EXCL makes the name the run's own."""
    folder = os.path.dirname(target)
    for _ in range(100):
        path = os.path.join(folder, f".uapi-validator-{os.urandom(6).hex()}")
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", folder)


def write_text(text: str, destination: str | None, inputs: Iterable[str] = ()) -> None:
    """Write to stdout (None or "-"), or replace `destination` atomically; `inputs` are the
    files the run read, which are never overwritten."""
    if destination is None or destination == "-":
        _write_stdout(text)
        return
    target, mode = resolve_destination(destination, inputs)
    try:
        handle, temporary = _temporary_beside(target)
    except OSError as exc:
        raise OutputError(f"{destination}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            os.fchmod(stream.fileno(), mode)
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise OutputError(f"{destination}: cannot write: {exc.strerror or exc}") from None
        raise
