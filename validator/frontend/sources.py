"""Where spec files are read from: the working tree, or a git revision.

The loader asks a source for files by their display path. A git source shows paths as
`REV:path` (what `git show REV:path` takes) and reads with git plumbing: no checkout, no
change to the working tree.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING

from validator.frontend import textfile

if TYPE_CHECKING:
    import subprocess


class InputError(Exception):
    """A path the user named cannot be read: a usage or I/O error, not a finding."""


class LocalFiles:
    """The file system."""

    def is_file(self, path: str) -> bool:
        return os.path.isfile(path)

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def read_bytes(self, path: str) -> bytes:
        return textfile.read_bytes(path)

    def real(self, path: str) -> str:
        """The path with symbolic links resolved (for the spec-root test)."""
        return os.path.realpath(path)

    def spec_files(self, folder: str, suffix: str) -> list[str]:
        try:
            return sorted(str(p) for p in Path(folder).rglob(f"*{suffix}") if p.is_file())
        except OSError as exc:
            raise InputError(f"{folder}: cannot read folder: {exc.strerror or exc}") from None

    def readable(self, path: str) -> bool:
        return os.access(path, os.R_OK)


LOCAL = LocalFiles()


def _git(repo: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    import subprocess  # here: a check of local files starts no process

    try:
        return subprocess.run(["git", "-C", repo, *args], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise InputError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} did not answer within 60 s") from None


class GitFiles:
    """The files of one revision of a repository."""

    def __init__(self, repo: str, rev: str) -> None:
        self.repo, self.rev = repo, rev
        verified = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if verified.returncode != 0:
            raise InputError(f"git:{rev}: no such revision in {repo}")
        listing = _git(repo, "ls-tree", "-r", "-z", "--name-only", rev)
        if listing.returncode != 0:
            raise InputError(f"git:{rev}: cannot list files: {listing.stderr.decode(errors='replace').strip()}")
        self._files = {name.decode("utf-8", "surrogateescape") for name in listing.stdout.split(b"\0") if name}

    @classmethod
    def holding(cls, path: str, rev: str) -> GitFiles:
        """The revision of the repository that holds `path`."""
        folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
        top = _git(folder, "rev-parse", "--show-toplevel")
        if top.returncode != 0:
            raise InputError(f"{path}: not inside a git repository, so git:{rev} cannot be read")
        return cls(top.stdout.decode().strip(), rev)

    def display(self, local_path: str) -> str:
        """`REV:path-in-repository` for a path of the working tree."""
        relative = os.path.relpath(os.path.abspath(local_path), self.repo)
        return f"{self.rev}:{Path(relative).as_posix()}"

    def _relative(self, path: str) -> str:
        prefix = f"{self.rev}:"
        return posixpath.normpath(path[len(prefix) :] if path.startswith(prefix) else path)

    def is_file(self, path: str) -> bool:
        return self._relative(path) in self._files

    def is_dir(self, path: str) -> bool:
        relative = self._relative(path)
        return relative == "." or any(f.startswith(relative + "/") for f in self._files)

    def exists(self, path: str) -> bool:
        return self.is_file(path) or self.is_dir(path)

    def read_bytes(self, path: str) -> bytes:
        """A blob of the revision, within the reader's one size limit."""
        object_name = f"{self.rev}:{self._relative(path)}"
        size = int(_git(self.repo, "cat-file", "-s", object_name).stdout or 0)
        if size > textfile.MAX_FILE_BYTES:
            message = f"the file is {size} bytes; the limit is {textfile.MAX_FILE_BYTES} bytes"
            raise textfile.FileProblem(path, "too-large", message)
        result = _git(self.repo, "cat-file", "blob", object_name)
        if result.returncode != 0:
            raise OSError(f"git cannot read {path}")
        return result.stdout

    def real(self, path: str) -> str:
        # No symbolic links are followed in a revision. Under a fixed top, so that a path
        # that climbs out of the repository stays outside it (`/` would absorb the `..`).
        return posixpath.normpath(posixpath.join("/revision", self._relative(path)))

    def spec_files(self, folder: str, suffix: str) -> list[str]:
        relative = self._relative(folder)
        inside = [f for f in self._files if f.endswith(suffix) and (relative == "." or f.startswith(relative + "/"))]
        return sorted(f"{self.rev}:{f}" for f in inside)

    def readable(self, path: str) -> bool:
        return self.is_file(path)
