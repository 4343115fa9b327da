"""Files and folders to loaded specs: read, parse, build, follow includes.

A *unit* is one root file with everything it includes; names resolve within a unit. Every
`.uapi` file named on the command line (or found in a named folder) is a root, unless another
root of the same run includes it: then it is checked as part of its includer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from validator.frontend.parse import StatementCache, decode, parse_file
from validator.frontend.sources import LOCAL, GitFiles, InputError, LocalFiles
from validator.frontend.textfile import MAX_FILE_BYTES, FileProblem
from validator.model.findings import Problem
from validator.model.frozen import frozen
from validator.model.spans import Span
from validator.model.spec import Include, SpecFile

SUFFIX = ".uapi"

# What kept the loader from reading a unit whole; the LOAD-stage rules report each kind
# (E101 syntax, E102 missing, E109 escape).
SYNTAX, MISSING, ESCAPE = "syntax", "missing", "escape"


@frozen
class LoadProblem:
    """A file that did not load, or an include not followed, and of which kind."""

    kind: str  # SYNTAX | MISSING | ESCAPE
    problem: Problem


@frozen
class Unit:
    """A root file with the files it includes: one spec."""

    root: str
    files: tuple[SpecFile, ...]  # the root first, then includes in the order met
    problems: tuple[LoadProblem, ...]  # files that do not parse, includes not followed
    broken: bool  # some file did not parse: names it declares are unknown
    spec_root: str = ""  # the folder includes (and `# header:` files) may not leave
    source: LocalFiles | GitFiles = LOCAL  # where its files (and its headers) are read


EMPTY_UNIT = Unit("", (), (), False)  # the baseline of a file that is new in the proposal


@dataclass(slots=True)
class _Loaded:
    """One file as read: its model, or why there is none."""

    spec: SpecFile | None  # None: the file could not be read as text at all
    error: Problem | None  # its syntax error (a file too large to read, a bad byte, the grammar's)


@dataclass(slots=True)
class _Loader:
    """Reads the files of one unit, each once."""

    files: LocalFiles | GitFiles
    cache: dict[str, _Loaded] = field(default_factory=dict)

    def load(self, path: str) -> _Loaded:
        if path not in self.cache:
            self.cache[path] = _load_file(path, self.files)
        return self.cache[path]


def display_path(path: str | Path) -> str:
    return Path(os.path.normpath(path)).as_posix()


def discover(paths: list[str], files: LocalFiles | GitFiles = LOCAL) -> list[tuple[str, str]]:
    """(file, spec root) for every spec file the paths name, in a stable order."""
    found: list[tuple[str, str]] = []
    for raw in paths:
        if not raw or "\0" in raw:
            raise InputError(f"{raw!r}: names no file or folder")
        path = display_path(raw)
        if files.is_dir(path):
            found.extend((display_path(f), path) for f in files.spec_files(path, SUFFIX))
        elif files.is_file(path):
            found.append((path, display_path(Path(path).parent)))
        elif files.exists(path):
            raise InputError(f"{raw}: not a file or folder")
        else:
            raise InputError(f"{raw}: no such file or folder")
    return found


def load_units(paths: list[str], files: LocalFiles | GitFiles = LOCAL, spec_root: str | None = None) -> list[Unit]:
    """Load every root the paths name, each with its includes; `spec_root`, a folder that
    holds them all, is the root includes and headers may not leave (default: the folder
    named, or a named file's own)."""
    roots = [(file, spec_root or root) for file, root in discover(paths, files)]
    for file, _ in roots:
        if not files.readable(file):
            raise InputError(f"{file}: cannot read file: permission denied")
    loader = _Loader(files)
    # Each file is parsed once (the loader keeps it), and a unit is built only for a file no
    # other unit holds: first the files no other named file includes, then whatever is left
    # (the files of an include cycle). Building a unit for every file of a 1000-file include
    # chain would walk the chain a thousand times.
    named = {file for file, _ in roots}
    included_by_others = {
        target for file, _ in roots for target in _include_targets(file, loader) if target != file and target in named
    }
    ordered = [r for r in roots if r[0] not in included_by_others] + [r for r in roots if r[0] in included_by_others]
    units: list[Unit] = []
    covered: set[str] = set()
    for file, root in ordered:
        if file in covered:
            continue
        unit = _load_unit(file, root, loader)
        covered.update(f.path for f in unit.files)
        units.append(unit)
    included = {f.path for unit in units for f in unit.files[1:]}
    order = {file: index for index, (file, _) in enumerate(roots)}
    return sorted((unit for unit in units if unit.root not in included), key=lambda unit: order[unit.root])


def _include_targets(file: str, loader: _Loader) -> list[str]:
    loaded = loader.load(file)
    if loaded.spec is None:
        return []
    folder = Path(file).parent
    return [display_path(folder / include.path) for include in loaded.spec.includes if "\0" not in include.path]


def load_text_unit(text: str, path: str, reuse: StatementCache | None = None) -> Unit:
    """A unit from text in memory (editors, tests); includes are read from disk. `reuse`: an
    editor's statements of the document's last version (only what changed is parsed)."""
    loader = _Loader(LOCAL)
    loader.cache[path] = _load_text(text, path, reuse)
    return _load_unit(path, display_path(Path(path).parent), loader)


def load_bytes_unit(data: bytes, path: str) -> Unit:
    """A unit from bytes read elsewhere (standard input), named `path`: its folder anchors
    the includes, read from disk. Bytes that are not a spec's text are its E101."""
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{path}: more than {MAX_FILE_BYTES // (1024 * 1024)} MiB: not a spec")
    text = decode(data, path)
    if isinstance(text, Problem):
        return _unit_of_problem(path, text)
    return load_text_unit(text, path)


def _unit_of_problem(path: str, problem: Problem) -> Unit:
    loader = _Loader(LOCAL)
    loader.cache[path] = _Loaded(SpecFile(path, syntax_error=problem), problem)
    return _load_unit(path, display_path(Path(path).parent), loader)


def _load_unit(file: str, root: str, loader: _Loader) -> Unit:
    files: list[SpecFile] = []
    problems: list[LoadProblem] = []
    broken = False
    source = loader.files
    real_root = source.real(root)
    seen: set[str] = set()  # real paths: a file reached by two names is read once

    # Depth-first, in include order, with an explicit stack: an include chain may be far
    # deeper than Python's recursion limit. `chain` is the path from the root to the file
    # being read, for the cycle test, which compares real paths (`ln -s . a` makes endless
    # names for one file); `on_chain` is the same, as a set.
    chain: list[str] = []
    chain_real: list[str] = []
    on_chain: set[str] = set()
    pending: list[Iterator[Include] | None] = []

    def enter(path: str, real: str) -> None:
        nonlocal broken
        seen.add(real)
        loaded = loader.load(path)
        if loaded.error:
            problems.append(LoadProblem(SYNTAX, loaded.error))
            broken = True
        chain.append(path)
        chain_real.append(real)
        on_chain.add(real)
        if loaded.spec is None:
            pending.append(None)
            return
        files.append(loaded.spec)
        pending.append(iter(loaded.spec.includes))

    real_file = source.real(file)
    if os.path.commonpath([real_file, real_root]) != real_root:
        # A symbolic link in a checked folder that points out of it (at /proc/self/environ,
        # say) is never read: its text would be quoted in every report.
        message = f"{display_path(file)} is a symbolic link that leaves {display_path(root)}; it is not read"
        problem = LoadProblem(ESCAPE, Problem(Span.point(file, 1, 1), message, subject="file"))
        return Unit(file, (), (problem,), True, root, source)
    enter(file, real_file)
    while pending:
        includes = pending[-1]
        include = next(includes, None) if includes is not None else None
        if include is None:
            pending.pop()
            chain.pop()
            on_chain.discard(chain_real.pop())
            continue
        target = display_path(Path(chain[-1]).parent / include.path)
        trouble = _include_problem(include.path, target, real_root, (chain, chain_real, on_chain), source, root)
        if trouble:
            kind, message, hint = trouble
            problems.append(
                LoadProblem(kind, Problem(include.span, message, subject=f"include/{include.path}", hint=hint))
            )
            broken = broken or kind == MISSING
            continue
        real = source.real(target)
        if real not in seen:
            enter(target, real)
    return Unit(file, tuple(files), tuple(problems), broken, root, source)


def _include_problem(
    written: str,
    target: str,
    real_root: str,
    chain: tuple[list[str], list[str], set[str]],
    files: LocalFiles | GitFiles,
    root: str,
) -> tuple[str, str, str] | None:
    """(kind, message, hint) for an include that cannot be followed: MISSING or ESCAPE.

    Messages name files relative to the spec root, so that the same spec gives the same
    message wherever it lies (a baseline read from git, a copy elsewhere).
    """

    def shown(path: str) -> str:
        return Path(os.path.relpath(path, root or ".")).as_posix()

    if "\0" in written:
        return MISSING, "include names no file: the path holds a NUL byte", ""
    if os.path.isabs(written):
        return ESCAPE, f'include "{written}" is an absolute path; includes are relative to the including file', ""
    real = files.real(target)
    if os.path.commonpath([real, real_root]) != real_root:
        return ESCAPE, f'include "{written}" leaves the spec root', f"the spec root is {display_path(real_root)}"
    paths, reals, on_chain = chain
    if real in on_chain:
        cycle = " -> ".join(shown(p) for p in [*paths[reals.index(real) :], target])
        return ESCAPE, f"include cycle: {cycle}", ""
    if not files.is_file(target):
        if files.exists(target):
            return MISSING, f'include "{written}" names something that is not a regular file ({shown(target)})', ""
        return MISSING, f'include "{written}" names a file that does not exist ({shown(target)})', ""
    return None


def _load_file(path: str, files: LocalFiles | GitFiles) -> _Loaded:
    try:
        data = files.read_bytes(path)
    except FileProblem as exc:
        if exc.kind == "too-large":
            return _Loaded(None, Problem(Span.point(path, 1, 1), exc.message))
        raise InputError(str(exc)) from None
    except OSError as exc:  # an I/O error is the run's, not the spec's: exit 2, naming the file
        raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    text = decode(data, path)
    if isinstance(text, Problem):
        return _Loaded(SpecFile(path, syntax_error=text), text)
    return _load_text(text, path)


def _load_text(text: str, path: str, reuse: StatementCache | None = None) -> _Loaded:
    spec = parse_file(text, path, reuse=reuse)
    return _Loaded(spec, spec.syntax_error)
