"""`check-patch`: a patch or a series, applied in memory to the repository it runs in, and
what it changes in the UAPI judged before it is merged.

Each patch is compared with the tree before it (a series: each on top of the ones before):
- the `.uapi` specs it touches, by diff mode;
- the UAPI headers it touches (`include/uapi/**`, `arch/*/include/uapi/**`), read as the
  compiler reads them after `headers_install` (`<linux/...>` from include/uapi, `<asm/...>`
  from the ABI's arch/*/include/uapi, then include/uapi/asm-generic): their ioctls and the
  structs those copy are imported as declarations (`import --ioctls`) on each side, and the
  same diff and hazard rules judge the change (a field moved: B610; a number changed: B611;
  a layout that differs between ABIs: I102; a number two ioctls share: I107/I108 ...).
  A finding is placed at the header line that declares what it is about.

Only what the patch introduces is reported: a finding the tree already had is left out.
"""

from __future__ import annotations

import argparse
import io
import os
import posixpath
import re
import sys
import tarfile
import tempfile
import textwrap
from dataclasses import replace
from pathlib import Path

from validator import TOOL_NAME, __version__
from validator.commands import EXIT_FINDINGS, EXIT_OK, Command, UsageError
from validator.frontend.build import directive_bodies
from validator.frontend.load import EMPTY_UNIT, Unit, load_units
from validator.frontend.patches import Patch, apply_series, read_patches, repository_of, run_git
from validator.frontend.sources import GitFiles, InputError
from validator.kernel.cfront import CHeaders, HeaderError, read_c_headers
from validator.kernel.constants import header_constants
from validator.kernel.crosscheck import header_registers, import_ioctls, spec_name
from validator.model.findings import SEVERITY_RANK, Finding, Problem
from validator.model.frozen import frozen
from validator.model.spans import Span
from validator.pipeline.config import Config, config_for
from validator.pipeline.engine import check_units
from validator.report import jsondoc
from validator.report.output import write_text
from validator.report.render import render
from validator.rules.directives import todo_left
from validator.rules.errors import header_unreadable
from validator.rules.header import header_changed_spec_unchanged

UAPI_HEADER = re.compile(r"^(?:include/uapi/|arch/([^/]+)/include/uapi/)\S+\.h$")
ARCH_ABIS = {"x86": ("x86_64", "i386"), "arm64": ("aarch64",), "riscv": ("riscv64",)}
_API_OF_ARCH = {"x86": "kvm/x86", "arm64": "kvm/arm64", "riscv": "kvm/riscv"}
_SOURCE = re.compile(r"^# (\S+):(\d+)$")
_CHECKPATCH = {"error": "ERROR", "warning": "WARNING", "info": "CHECK"}


@frozen
class Placed:
    """A finding of one patch, at the patch's own file and line (checkpatch's #NN)."""

    finding: Finding
    path: str  # the file in the repository
    line: int  # its line after the patch
    patch_line: int | None  # the diff line that shows it, in the input


def check_patch(args: argparse.Namespace) -> int:
    text = _read_input(args.patch)
    patches = read_patches(text)
    repo = repository_of(os.getcwd())
    base = args.base or patches[0].base_commit or "HEAD"
    commits = apply_series(repo, base, patches)
    parents = [run_git(repo, "rev-parse", f"{base}^{{commit}}").decode().strip(), *commits[:-1]]
    config = _config(repo)
    results = [
        (patch, _findings(repo, before, after, patch, config))
        for patch, before, after in zip(patches, parents, commits, strict=True)
    ]
    output = {
        "checkpatch": _checkpatch,
        "email": _email,
        "json": _json,
    }[args.format](results, text)
    write_text(output, args.output, [] if args.patch == "-" else [args.patch])
    threshold = SEVERITY_RANK[args.fail_on] if args.fail_on != "never" else 99
    failed = any(SEVERITY_RANK[p.finding.severity] >= threshold for _, placed in results for p in placed)
    return EXIT_FINDINGS if failed else EXIT_OK


def _read_input(name: str) -> str:
    if name == "-":
        data = sys.stdin.buffer.read() if sys.stdin is not None else b""
    else:
        try:
            with open(name, "rb") as stream:
                data = stream.read()
        except OSError as exc:
            raise InputError(f"{name}: cannot read the patch: {exc.strerror or exc}") from None
    return data.decode("utf-8", errors="replace")


def _config(repo: str) -> Config | None:
    try:
        return config_for(Path(repo))
    except Exception:  # a broken configuration is `check`'s to report
        return None


def _findings(repo: str, before: str, after: str, patch: Patch, config: Config | None) -> list[Placed]:
    placed = _spec_findings(repo, before, after, patch, config) + _header_findings(repo, before, after, patch)
    unique = {(p.finding.code, p.path, p.line, p.finding.message): p for p in placed}
    return sorted(unique.values(), key=lambda p: (p.path, p.line, p.finding.code, p.finding.message))


# -- specs -------------------------------------------------------------------------------


def _spec_findings(repo: str, before: str, after: str, patch: Patch, config: Config | None) -> list[Placed]:
    after_files, before_files = GitFiles(repo, after), GitFiles(repo, before)
    touched = [f.new_path for f in patch.files if f.new_path and f.new_path.endswith(".uapi")]
    changed_headers = {f.path for f in patch.files if f.new_path and f.old_path and not f.path.endswith(".uapi")}
    # A spec the patch leaves alone is judged too where its `# header:` names a header the
    # patch changes (H909: the header's change is described nowhere).
    describing = [p for p in _describing(after_files, changed_headers) if p not in touched]
    if not touched and not describing:
        return []
    # The repository is the spec root: a spec may name a header anywhere in the tree.
    named = touched + describing
    units = load_units([f"{after}:{path}" for path in named], after_files, f"{after}:.")
    present = [f"{before}:{path}" for path in named if before_files.is_file(f"{before}:{path}")]
    bases = {u.root.split(":", 1)[1]: u for u in load_units(present, before_files, f"{before}:.")} if present else {}

    def baseline_for(unit: Unit) -> Unit:
        return bases.get(unit.root.split(":", 1)[1], EMPTY_UNIT)

    # The headers are judged as headers below, with the kernel's include layout: the specs'
    # own cross-check against them is not run here.
    report = check_units(units, config, baseline_for, headers_for=lambda _unit: [])
    out = []
    for finding in report.findings:
        if finding.baseline or finding.suppressed is not None:
            continue
        path = finding.span.path.split(":", 1)[1] if ":" in finding.span.path else finding.span.path
        if finding.code == header_changed_spec_unchanged.code and path not in touched:
            out += _at_header(finding, path, patch)
            continue
        moved = _in_repository(finding, path)
        out.append(Placed(moved, path, moved.span.line, patch.patch_line(path, moved.span.line)))
    return out


def _describing(files: GitFiles, headers: set[str]) -> list[str]:
    """The repository's specs whose `# header:` lines may name one of `headers` (the directive
    as the builder reads it; loading them decides, by `directive_headers`)."""
    found = []
    for path in sorted(files.spec_files(".", ".uapi")) if headers else ():
        relative = path.split(":", 1)[1] if ":" in path else path
        try:
            text = files.read_bytes(path).decode("utf-8", errors="replace")
        except OSError:
            continue  # check's to report
        for written in directive_bodies(text, "header"):
            if posixpath.normpath(posixpath.join(posixpath.dirname(relative), written)) in headers:
                found.append(relative)
                break
    return found


def _at_header(finding: Finding, spec_path: str, patch: Patch) -> list[Placed]:
    """H909 told at the header's first changed line in the patch (the spec is not in it)."""
    written = finding.subject.split("/", 1)[1]
    header = posixpath.normpath(posixpath.join(posixpath.dirname(spec_path), written))
    lines = [
        (kind, number, at) for f in patch.files if f.path == header for h in f.hunks for kind, _, number, at in h.lines
    ]
    # The first added line; a change that only removes lines, the line after the removal.
    shown = [(n, at) for kind, n, at in lines if kind == "+" and n is not None] or [
        (n, at) for _, n, at in lines if n is not None
    ]
    if not shown:
        return []
    number, at = shown[0]
    message = (
        f"{header} changed, but {spec_path}, which describes it (`# header:` at its line {finding.span.line}), did not"
    )
    return [Placed(replace(_in_repository(finding, header, number), message=message), header, number, at)]


def _in_repository(finding: Finding, path: str, line: int | None = None) -> Finding:
    span = finding.span
    where = Span(path, line or span.line, span.column, line or span.end_line, span.end_column)
    return replace(finding, span=where, related=())


# -- headers -----------------------------------------------------------------------------


def _header_findings(repo: str, before: str, after: str, patch: Patch) -> list[Placed]:
    changed = [f.path for f in patch.files if UAPI_HEADER.match(f.path)]
    if not changed:
        return []
    out: list[Placed] = []
    with tempfile.TemporaryDirectory(prefix="uapi-headers-") as folder:
        trees = {
            side: _materialise(repo, rev, os.path.join(folder, side)) for side, rev in (("a", before), ("b", after))
        }
        for target, arches in _targets(changed, trees["b"]).items():
            for arch in arches:
                try:
                    after_text = _imported(trees["b"], target, arch)
                except HeaderError as exc:  # never a silent pass: the change was not judged
                    problem = Problem(Span.point(target, 1, 1), f"{arch}: {exc}".replace(trees["b"] + "/", ""))
                    finding = header_unreadable.report(problem)
                    out.append(Placed(finding, target, 1, None))
                    continue
                if after_text is None:
                    continue
                try:
                    before_text = _imported(trees["a"], target, arch) or ""
                except HeaderError:
                    before_text = ""  # the tree before did not read: everything is judged as new
                out += _judged(before_text, after_text, folder, patch)
    return out


def _materialise(repo: str, rev: str, into: str) -> str:
    """The UAPI headers of a revision (git archive: the work tree is not read), with the
    `<asm/...>` wrappers headers_install generates for what an architecture lacks."""
    os.makedirs(into)
    listed = run_git(repo, "ls-tree", "-r", "--name-only", rev, "--", "include/uapi", "arch").decode().splitlines()
    wanted = [p for p in listed if UAPI_HEADER.match(p)]
    if wanted:
        archive = run_git(
            repo, "archive", "--format=tar", rev, "--", *sorted({p.split("/uapi/")[0] + "/uapi" for p in wanted})
        )
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and UAPI_HEADER.match(m.name)]
            tar.extractall(into, members=members, filter="data")
    generic = Path(into, "include/uapi/asm-generic")
    for arch_dir in Path(into, "arch").glob("*/include/uapi"):
        wrappers = Path(into, "generated", arch_dir.parts[-3], "asm")
        wrappers.mkdir(parents=True, exist_ok=True)
        own = {p.name for p in (arch_dir / "asm").glob("*.h")}
        for header in generic.glob("*.h") if generic.is_dir() else ():
            if header.name not in own:
                (wrappers / header.name).write_text(f"#include <asm-generic/{header.name}>\n")
    return into


def _targets(changed: list[str], tree: str) -> dict[str, list[str]]:
    """The header to import for each change (an arch's asm/X.h through linux/X.h, which
    includes it), and the architectures to read it for."""
    present = sorted(
        p.name for p in Path(tree, "arch").glob("*") if (p / "include/uapi").is_dir() and p.name in ARCH_ABIS
    )
    targets: dict[str, list[str]] = {}
    for path in changed:
        arch = UAPI_HEADER.match(path).group(1)  # type: ignore[union-attr]
        target = path
        if arch:
            generic = f"include/uapi/linux/{Path(path).name}"
            target = generic if Path(tree, generic).is_file() else path
        if not Path(tree, target).is_file():
            continue
        for name in [arch] if arch else present:
            if name in ARCH_ABIS and name not in targets.setdefault(target, []):
                targets[target].append(name)
    return targets


def _imported(tree: str, target: str, arch: str) -> str | None:
    """The declarations `import --ioctls` writes for a header on an architecture (laid out
    for its ABIs), or None where the header is absent or declares no ioctl; HeaderError
    where it cannot be read."""
    path = os.path.join(tree, target)
    if not os.path.isfile(path):
        return None
    abis = ARCH_ABIS[arch]
    include = [os.path.join(tree, "include/uapi"), os.path.join(tree, "arch", arch, "include/uapi")]
    include.append(os.path.join(tree, "generated", arch))
    headers = read_c_headers([path], include, abis[0])  # HeaderError: the caller reports it
    found = import_ioctls(headers, None)
    if not found["ioctls"]:
        return None
    view = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "headers": [target],
        "prefix": None,
        "api": _API_OF_ARCH[arch],
        "abi": abis[0],
        **found,
    }
    capabilities, registers = _capabilities(headers), _registers(headers)
    ioctls: list[dict[str, object]] = found["ioctls"]  # type: ignore[assignment]
    taken = frozenset(str(i["name"]) for i in ioctls) | {n for n in headers.macros if n.startswith("KVM_CAP_")}
    taken |= {spec_name(n) for n in header_registers(headers).by_name}
    text = render("import-ioctls.uapi.j2", view) + "".join(capabilities + registers + _constants(headers, taken))
    return text.replace(f"\nabi {abis[0]}\n", f"\nabi {', '.join(abis)}\n", 1).replace(tree + "/", "")


def _registers(headers: CHeaders) -> list[str]:
    """The headers' register id macros (every family the header reader knows) as registers
    with their ids: an id changed (B602), reused (E104) or removed (B601) is judged."""
    out = []
    for name, (value, macro) in sorted(header_registers(headers).by_name.items()):
        out.append(f"\n# {macro.path}:{macro.line}\nregister {spec_name(name)} {{\n  id 0x{value:x}\n}}\n")
    return out


def _constants(headers: CHeaders, taken: frozenset[str]) -> list[str]:
    """The headers' flag bits and enumerators, each a one-entry `flags` or `enum`: a bit or
    value moved (B615) or removed (B601) is judged. Whether the kernel refuses undefined bits
    is no header's to tell (I109 is not asked)."""
    out = []
    for c in header_constants(headers, taken):
        allow = "  # allow: I109 -- imported from a header, which cannot tell" if c.kind == "flags" else ""
        out.append(
            f"\n# {c.path}:{c.line}\n{c.kind} {c.name} : {c.type} {{{allow}\n# {c.path}:{c.line}\n  {c.number} {c.name}\n}}\n"
        )
    return out


def _capabilities(headers: CHeaders) -> list[str]:
    """The headers' KVM_CAP_* as capabilities with their numbers: a number changed (B614),
    reused (I116) or a capability removed (B601) is then judged as any declaration is."""
    out = []
    for name in sorted(n for n in headers.macros if n.startswith("KVM_CAP_")):
        path, line = headers.where(name)
        out.append(
            f"\n# {path}:{line}\ncapability {name} : vm {{\n  kind   query\n  number {headers.macros[name]}\n}}\n"
        )
    return out


def _judged(before_text: str, after_text: str, folder: str, patch: Patch) -> list[Placed]:
    work = tempfile.mkdtemp(dir=folder)
    before_path, after_path = os.path.join(work, "before.uapi"), os.path.join(work, "after.uapi")
    Path(before_path).write_text(before_text)
    Path(after_path).write_text(after_text)
    (base,) = load_units([before_path]) if before_text else (EMPTY_UNIT,)
    report = check_units(load_units([after_path]), None, lambda _unit: base)
    lines, before_lines = after_text.splitlines(), before_text.splitlines()
    out = []
    for finding in report.findings:
        # D803: the import marks what a header cannot tell (directions, deadlines): not the patch's.
        if finding.baseline or finding.suppressed is not None or finding.code == todo_left.code:
            continue
        if finding.span.path != after_path:
            continue
        source = _header_line(lines, finding.span.line)
        if source is not None:
            path, line = source
            moved = _in_repository(finding, path, line)
            out.append(Placed(moved, path, line, patch.patch_line(path, line)))
            continue
        # A removal stands on no line of the header after the patch: tell it at the `-` line
        # of what the baseline declared (its related span).
        was = next((r.span for r in finding.related if r.span.path == before_path), None)
        source = _header_line(before_lines, was.line) if was is not None else None
        removed = patch.removal(*source) if source is not None else None
        if source is not None and removed is not None:
            line, at = removed
            out.append(Placed(_in_repository(finding, source[0], line), source[0], line, at))
    return out


def _header_line(lines: list[str], line: int) -> tuple[str, int] | None:
    """The header file and line a line of an imported spec stands for: the `# FILE:LINE`
    above its declaration, moved down by the line's place in the declaration (a struct's
    fields are one to a line in a UAPI header)."""
    for index in range(line - 1, -1, -1):
        found = _SOURCE.match(lines[index])
        if found:
            declaration = index + 2  # the declaration's own line, below its source comment
            # A macro (an ioctl, a capability, a register id) is one line of the header.
            one_line = index + 1 < len(lines) and lines[index + 1].startswith(("ioctl ", "capability ", "register "))
            return found.group(1), int(found.group(2)) + (0 if one_line else max(line - declaration, 0))
    return None


# -- formats -----------------------------------------------------------------------------


def _source_text(placed: Placed, text: str) -> str:
    if placed.patch_line is None:
        return ""
    lines = text.split("\n")
    return lines[placed.patch_line - 1] if placed.patch_line - 1 < len(lines) else ""


def _checkpatch(results: list[tuple[Patch, list[Placed]]], text: str) -> str:
    """Lines as checkpatch.pl prints them, which `b4 prep --check` shows per patch."""
    out: list[str] = []
    for patch, placed in results:
        if len(results) > 1:
            out.append(f"{patch.subject or 'patch ' + str(patch.index)}")
            out.append("-" * min(len(patch.subject or "patch"), 72))
        for p in placed:
            finding = p.finding
            out.append(f"{_CHECKPATCH[finding.severity]}: {finding.code} {finding.name}: {finding.message}")
            where = f"#{p.patch_line}: " if p.patch_line else ""
            out.append(f"{where}FILE: {p.path}:{p.line}:")
            quoted = _source_text(p, text)
            if quoted:
                out.append(quoted)
            out.append("")
        counts = {s: sum(1 for p in placed if p.finding.severity == s) for s in ("error", "warning", "info")}
        checked = len(patch.text.split("\n"))
        out.append(
            f"total: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} checks, "
            f"{checked} lines checked"
        )
        out.append("")
    return "\n".join(out)


def _state(placed: list[Placed]) -> str:
    if any(p.finding.severity == "error" for p in placed):
        return "fail"
    return "warning" if placed else "success"


def _json(results: list[tuple[Patch, list[Placed]]], text: str) -> str:
    """One result per patch, as patchwork's checks API takes it (state, description, context)."""
    patches = []
    for patch, placed in results:
        counts = {s: sum(1 for p in placed if p.finding.severity == s) for s in ("error", "warning", "info")}
        description = (
            ", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}" for s, n in counts.items() if n)
            or "no UAPI findings"
        )
        patches.append(
            {
                "index": patch.index,
                "subject": patch.subject,
                "message_id": patch.message_id,
                "state": _state(placed),
                "description": description,
                "context": TOOL_NAME,
                "findings": [
                    {
                        "code": p.finding.code,
                        "name": p.finding.name,
                        "severity": p.finding.severity,
                        "message": p.finding.message,
                        "path": p.path,
                        "line": p.line,
                        "patch_line": p.patch_line,
                    }
                    for p in placed
                ],
            }
        )
    return jsondoc.dumps({"tool": {"name": TOOL_NAME, "version": __version__}, "patches": patches})


def _wrap(text: str, prefix: str = "") -> list[str]:
    return textwrap.wrap(text, 72 - len(prefix), break_long_words=False, break_on_hyphens=False) or [""]


def _email(results: list[tuple[Patch, list[Placed]]], text: str) -> str:
    """A review reply per patch that has findings: the patch's own hunks quoted with `> `,
    each finding under the line it is about, wrapped at 72."""
    messages = []
    for patch, placed in results:
        if not placed:
            continue
        subject = patch.subject if patch.subject.lower().startswith("re:") else f"Re: {patch.subject}"
        lines = [f"Subject: {subject}"]
        if patch.message_id:
            lines += [f"In-Reply-To: {patch.message_id}", f"References: {patch.message_id}"]
        lines.append("")
        said = ", ".join(x for x in (patch.date, patch.author) if x)
        lines.append(f"On {said} wrote:" if said else "The patch says:")
        by_line: dict[int, list[Placed]] = {}
        unplaced: list[Placed] = []
        for p in placed:
            (by_line.setdefault(p.patch_line, []) if p.patch_line else unplaced).append(p)
        for file in patch.files:
            for hunk in file.hunks:
                hunk_lines = [at for *_, at in hunk.lines]
                if not any(at in by_line for at in hunk_lines):
                    continue
                lines.append(f"> diff --git a/{file.old_path or file.path} b/{file.new_path or file.path}")
                source = text.split("\n")
                lines.append("> " + source[hunk.header_line - 1])
                for at in hunk_lines:
                    lines.append("> " + source[at - 1])
                    for p in by_line.get(at, []):
                        if lines[-1] != "":
                            lines.append("")
                        finding = p.finding
                        lines += _wrap(f"{finding.code} {finding.name} ({finding.severity}): {finding.message}")
                        if finding.hint:
                            lines += _wrap(f"Suggested fix: {finding.hint}.")
                        lines.append("")
        if unplaced:
            lines += ["", "Outside the hunks quoted above:"]
        for p in unplaced:
            lines += ["", *_wrap(f"{p.path}:{p.line}: {p.finding.code} {p.finding.name}: {p.finding.message}")]
        lines += ["", "-- ", f"{TOOL_NAME} {__version__}", ""]
        messages.append("\n".join(lines))
    return "\n".join(messages) if messages else "No UAPI findings.\n"


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "patch", nargs="?", default="-", metavar="PATCH", help="a patch, an mbox series or a diff; - for stdin"
    )
    parser.add_argument("--format", choices=("checkpatch", "email", "json"), default="checkpatch")
    parser.add_argument("--base", metavar="REV", help="apply on REV (default: the patch's base-commit:, else HEAD)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument(
        "--fail-on",
        choices=("error", "warning", "info", "never"),
        default="error",
        help="exit 1 when a finding reaches this severity (default: error)",
    )


def _run(args: argparse.Namespace) -> int:
    if args.patch != "-" and not os.path.isfile(args.patch):
        raise UsageError(f"{args.patch}: no such patch file")
    return check_patch(args)


COMMANDS = (Command("check-patch", "check a patch or a series against the repository it runs in", _arguments, _run),)
