"""Patches as the kernel's workflow passes them: a `git format-patch` file, an mbox of a
series, or a plain unified diff; and their application, in memory, with git plumbing.

`read_patches(text)` splits the input into `Patch`es (headers, the diff, and where each
line of the diff sits in the input: checkpatch's `#NN`). `apply_series(repo, base, patches)`
applies them one on top of the other in a temporary index (`git read-tree`, `git apply
--cached`, `git write-tree`, `git commit-tree`): each patch becomes a commit object no ref
names, readable as `git:SHA`, and neither the work tree, the index nor any ref changes.
"""

from __future__ import annotations

import email.header
import os
import re
import subprocess
import tempfile

from validator.frontend.sources import InputError
from validator.model.frozen import frozen

_FROM_LINE = re.compile(r"^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_BASE_COMMIT = re.compile(r"^base-commit: ([0-9a-f]{7,40})\s*$", re.M)
MAX_PATCH_BYTES = 32 * 1024 * 1024


@frozen
class Hunk:
    old_start: int
    new_start: int
    # (kind, text, line number in the new file or None, line number in the input): kind is
    # " " (context), "+" or "-".
    lines: tuple[tuple[str, str, int | None, int], ...]
    header_line: int  # the `@@` line's number in the input


@frozen
class FilePatch:
    old_path: str | None  # None: a new file
    new_path: str | None  # None: a deleted file
    hunks: tuple[Hunk, ...]

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


@frozen
class Patch:
    subject: str  # as written, with its [PATCH n/m] prefix
    message_id: str | None
    author: str | None
    base_commit: str | None
    files: tuple[FilePatch, ...]
    text: str  # this patch's part of the input
    first_line: int  # where it starts in the input (1-based)
    index: int = 1  # its place in the series
    date: str | None = None

    def patch_line(self, path: str, new_line: int) -> int | None:
        """The input line of the diff that shows line `new_line` of `path` after the patch
        (an added or a context line); None where the patch does not show it."""
        for file in self.files:
            if file.path != path:
                continue
            for hunk in file.hunks:
                for _, _, number, at in hunk.lines:
                    if number == new_line:
                        return at
        return None

    def removal(self, path: str, old_line: int) -> tuple[int, int] | None:
        """Where the patch removes line `old_line` of `path`: (the line of the file after the
        patch it stood before, the input line of the diff's `-` line); None where the patch
        does not remove it."""
        for file in self.files:
            if file.path != path:
                continue
            for hunk in file.hunks:
                old, new = hunk.old_start, hunk.new_start
                for kind, _, _, at in hunk.lines:
                    if kind == "-" and old == old_line:
                        return new, at
                    old += kind in " -"
                    new += kind in " +"
        return None


def read_patches(text: str) -> list[Patch]:
    """Every patch of the input, in order; an input with no diff is an InputError."""
    if len(text) > MAX_PATCH_BYTES:
        raise InputError(f"the patch is over {MAX_PATCH_BYTES // (1024 * 1024)} MiB")
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if _FROM_LINE.match(line)] or [0]
    patches = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        patch = _read_one(lines[start:end], start + 1)
        if patch is not None:
            patches.append(patch)
    if not patches:
        raise InputError("no unified diff found in the input (a `git format-patch` file, an mbox, or a diff)")
    base = next((p.base_commit for p in reversed(patches) if p.base_commit), None)  # the cover or last patch
    indexed = [
        Patch(p.subject, p.message_id, p.author, p.base_commit or base, p.files, p.text, p.first_line, i, p.date)
        for i, p in enumerate(patches, 1)
    ]
    return indexed


def _header_value(value: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeDecodeError):
        return value


def _read_one(lines: list[str], first: int) -> Patch | None:
    headers: dict[str, str] = {}
    index = 1 if lines and _FROM_LINE.match(lines[0]) else 0
    if index:  # mail headers up to the first blank line, folded lines joined
        last = None
        while index < len(lines) and lines[index].strip():
            line = lines[index]
            if line[:1] in (" ", "\t") and last:
                headers[last] += " " + line.strip()
            elif ":" in line:
                last, _, value = line.partition(":")
                last = last.strip().lower()
                headers[last] = value.strip()
            index += 1
    files: list[FilePatch] = []
    while index < len(lines):
        if lines[index].startswith("diff --git ") or (
            lines[index].startswith("--- ") and index + 1 < len(lines) and lines[index + 1].startswith("+++ ")
        ):
            file, index = _read_file(lines, index, first)
            if file is not None:
                files.append(file)
            continue
        index += 1
    if not files:
        return None
    text = "\n".join(lines)
    found = _BASE_COMMIT.search(text)
    subject = _header_value(headers.get("subject", "")) or (files[0].path if files else "")
    return Patch(
        subject,
        headers.get("message-id"),
        _header_value(headers["from"]) if "from" in headers else None,
        found.group(1) if found else None,
        tuple(files),
        text,
        first,
        date=headers.get("date"),
    )


def _path(word: str) -> str | None:
    word = word.strip().split("\t")[0]
    if word == "/dev/null":
        return None
    return word[2:] if word[:2] in ("a/", "b/") else word


def _read_file(lines: list[str], index: int, first: int) -> tuple[FilePatch | None, int]:
    old = new = None
    if lines[index].startswith("diff --git "):
        parts = lines[index][len("diff --git ") :].split(" b/", 1)
        old = _path(parts[0])
        new = "b/" + parts[1] if len(parts) == 2 else None
        new = _path(new) if new else None
        index += 1
        while index < len(lines) and not lines[index].startswith(("--- ", "diff --git ", "@@")):
            if lines[index].startswith("new file mode"):
                old = None
            if lines[index].startswith("deleted file mode"):
                new = None
            index += 1
    if index < len(lines) and lines[index].startswith("--- "):
        old = _path(lines[index][4:]) if old is not None or lines[index][4:].strip() != "/dev/null" else None
        index += 1
        if index < len(lines) and lines[index].startswith("+++ "):
            new = _path(lines[index][4:])
            index += 1
    hunks: list[Hunk] = []
    while index < len(lines):
        header = _HUNK.match(lines[index])
        if not header:
            break
        old_start, old_count = int(header.group(1)), int(header.group(2) or 1)
        new_start, new_count = int(header.group(3)), int(header.group(4) or 1)
        header_line = first + index
        index += 1
        body: list[tuple[str, str, int | None, int]] = []
        old_left, new_left, number = old_count, new_count, new_start
        while index < len(lines) and (old_left > 0 or new_left > 0):
            line = lines[index]
            kind = line[:1] if line[:1] in ("+", "-", " ") else " "
            if line.startswith("\\"):  # "\ No newline at end of file"
                index += 1
                continue
            if kind == "-":
                body.append(("-", line[1:], None, first + index))
                old_left -= 1
            else:
                body.append((kind, line[1:], number, first + index))
                number += 1
                new_left -= 1
                if kind == " ":
                    old_left -= 1
            index += 1
        hunks.append(Hunk(old_start, new_start, tuple(body), header_line))
    if old is None and new is None:
        return None, index
    return FilePatch(old, new, tuple(hunks)), index


def run_git(repo: str, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", repo, *args],
            capture_output=True,
            input=stdin,
            env={**os.environ, **(env or {})},
            timeout=120,
        )
    except FileNotFoundError:
        raise InputError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} did not answer within 120 s") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(f"git {args[0]}: {message[0] if message else 'failed'}")
    return done.stdout


def repository_of(folder: str) -> str:
    try:
        return run_git(folder, "rev-parse", "--show-toplevel").decode().strip()
    except InputError:
        raise InputError(f"{folder}: not inside a git repository: check-patch applies patches to one") from None


def apply_series(repo: str, base: str, patches: list[Patch]) -> list[str]:
    """The commit each patch makes, applied in order on `base` in a temporary index; a patch
    that does not apply is an InputError naming it."""
    try:
        base_commit = run_git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").decode().strip()
    except InputError:
        raise InputError(f"base {base}: no such commit in {repo} (fetch it, or apply the series elsewhere)") from None
    commits = []
    with tempfile.TemporaryDirectory(prefix="uapi-patch-") as folder:
        env = {
            "GIT_INDEX_FILE": os.path.join(folder, "index"),
            "GIT_AUTHOR_NAME": "uapi-validator",
            "GIT_AUTHOR_EMAIL": "uapi-validator@localhost",
            "GIT_COMMITTER_NAME": "uapi-validator",
            "GIT_COMMITTER_EMAIL": "uapi-validator@localhost",
            "GIT_AUTHOR_DATE": "1970-01-01T00:00:00Z",
            "GIT_COMMITTER_DATE": "1970-01-01T00:00:00Z",
        }
        run_git(repo, "read-tree", base_commit, env=env)
        parent = base_commit
        for patch in patches:
            try:
                run_git(repo, "apply", "--cached", "--whitespace=nowarn", "-", env=env, stdin=patch.text.encode())
            except InputError as exc:
                raise InputError(f"patch {patch.index} ({patch.subject or 'untitled'}) does not apply: {exc}") from None
            tree = run_git(repo, "write-tree", env=env).decode().strip()
            made = run_git(repo, "commit-tree", tree, "-p", parent, "-m", patch.subject or "patch", env=env)
            parent = made.decode().strip()
            commits.append(parent)
    return commits
