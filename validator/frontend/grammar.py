"""Loads the grammar (located by `validator.frontend.bundled`) into a lark LALR parser.

The analysed grammar (LALR tables) is kept in the user's cache directory: building it is a
third of the start-up of a small check. Lark reads the file back with pickle, so it is kept
only where nobody else can write it, and any trouble with it means building afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Callable, Iterator

try:
    import fcntl
except ImportError:  # Windows: no lock, and no wait
    fcntl = None  # type: ignore[assignment]

import lark
from lark import Lark

from validator.frontend.bundled import grammar_file
from validator.frontend.lexer import LineScanner, WordScanner

NO_CACHE_VARIABLE = "UAPI_VALIDATOR_NO_CACHE"


def grammar_text() -> str:
    return grammar_file().read_text(encoding="utf-8")


def build_lark_parser(*, strict: bool = False, line_shortcuts: bool = True) -> Lark:
    """The LALR parser, fed by the project's scanner; it gives a lark tree, which
    `validator.frontend.build.SpecBuilder` turns into the model.

    `line_shortcuts=False` scans every line word by word (see validator.frontend.lexer).
    """
    text = grammar_text()
    lexer = LineScanner if line_shortcuts else WordScanner
    cache = False if strict else cache_file(text, lexer.__name__)
    with _locked(cache):
        return Lark(
            text,
            parser="lalr",
            lexer=lexer,
            keep_all_tokens=True,  # the builder takes spans from each rule's own tokens
            maybe_placeholders=True,
            strict=strict,
            cache=cache,
        )


@contextlib.contextmanager
def _locked(cache: str | bool) -> Iterator[None]:
    """Hold the cache file's lock: lark writes the file in place (the file name is part of its
    key, so it cannot be written aside and renamed), and runs started together, as pre-commit
    starts them, must not read a half-written one. Where there is no lock, there is no wait."""
    if not isinstance(cache, str) or fcntl is None:
        yield
        return
    try:
        lock = os.open(f"{cache}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)  # closing releases the lock


def cache_file(grammar: str, variant: str) -> str | bool:
    """Where lark keeps this grammar's tables, or False: no cache (asked for, or not safe)."""
    if os.environ.get(NO_CACHE_VARIABLE):
        return False
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "uapi-validator")
    key = hashlib.sha256(f"{grammar}\0{variant}\0{lark.__version__}".encode()).hexdigest()[:16]
    path = os.path.join(folder, f"grammar-{key}.lark-cache")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not _private(folder, stat.S_ISDIR) or (os.path.lexists(path) and not _private(path, stat.S_ISREG)):
            return False
    except OSError:
        return False
    return path


def _private(path: str, kind: Callable[[int], bool]) -> bool:
    """Owned by this user, of the kind expected (a regular file or a folder: never a link, nor
    a FIFO that would block every run), and writable by nobody else."""
    info = os.lstat(path)
    owner_ok = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return owner_ok and kind(info.st_mode) and not info.st_mode & 0o022
