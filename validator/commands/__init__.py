"""What the commands share: usage errors, exit codes, and turning arguments into a report."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from validator.frontend.bundled import bundled_kvm_spec_dir, bundled_spec_dir
from validator.frontend.load import EMPTY_UNIT, Unit, load_bytes_unit, load_units
from validator.frontend.sources import LOCAL, GitFiles, LocalFiles
from validator.frontend.textfile import MAX_FILE_BYTES
from validator.model.abi import ABIS
from validator.model.findings import Finding
from validator.model.frozen import frozen
from validator.model.spec import SpecFile
from validator.pipeline.config import Config, as_selector, config_for, load_config
from validator.pipeline.engine import Report, check_paths, check_units, conform_units, directive_baseline
from validator.rules import lookup
from validator.rules.catalog import CONFORM
from validator.rules.errors import STRUCTURAL_ERRORS

if TYPE_CHECKING:
    from validator.kernel.crosscheck import HeaderOptions

FAIL_LEVELS = ("error", "warning", "info", "never")
FORMATS = ("text", "json", "sarif", "github", "junit")


def _crosscheck_finding(finding: Finding) -> bool:
    """What `crosscheck` reports: the headers' word on the spec (E111, E112, H9xx), and the
    errors that keep a spec or a header from being read at all. Scenario failures and design
    hazards are `check`'s, so CI can gate on header drift alone."""
    return finding.code in ("E111", "E112", "E113") or finding.code.startswith("H") or finding.code in STRUCTURAL_ERRORS


EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    pass


class Command(NamedTuple):
    """A command: its name and help, its arguments (declared beside its handler), its handler."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def output_options(command: argparse.ArgumentParser) -> None:
    """The options of every command that reports findings."""
    command.add_argument("--format", choices=FORMATS, default="text")
    command.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    command.add_argument(
        "--output-format",
        action="append",
        default=[],
        metavar="FORMAT=FILE",
        help="also write FORMAT to FILE (repeatable), beside the main output",
    )
    command.add_argument(
        "--fail-on",
        choices=FAIL_LEVELS,
        default="error",
        help="exit 1 when a finding reaches this severity (default: error)",
    )
    command.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    command.add_argument("--config", metavar="FILE", help="configuration file (default: found upward from the spec)")
    selection = command.add_argument_group("rule selection (as ruff and flake8 take it; codes, names or prefixes)")
    selection.add_argument("--select", metavar="CODES", help="only these rules, in place of the configuration's")
    selection.add_argument("--extend-select", metavar="CODES", help="these rules too, beside the selected ones")
    selection.add_argument("--ignore", metavar="CODES", help="not these rules (added to the configuration's)")
    selection.add_argument("--extend-ignore", metavar="CODES", help="the same as --ignore")
    shown = command.add_argument_group("what the text output shows")
    shown.add_argument("-q", "--quiet", action="store_true", help="the findings, and no notes or summary")
    shown.add_argument("--statistics", action="store_true", help="a count per rule instead of each finding")
    shown.add_argument(
        "--no-show-source", dest="show_source", action="store_false", help="no quoted line and caret under a finding"
    )
    shown.add_argument("--show-source", dest="show_source", action="store_true", default=True, help=argparse.SUPPRESS)
    command.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings would fail the run")
    command.add_argument(
        "--stdin-filename", metavar="PATH", help="with `-` as the path: the name (and folder, for includes) of stdin"
    )
    sarif = command.add_argument_group("SARIF")
    sarif.add_argument(
        "--category",
        metavar="NAME",
        help="automationDetails.id: one per analysis a repository uploads to code scanning",
    )
    sarif.add_argument(
        "--show-suppressed", action="store_true", help="keep findings an `# allow:` suppresses, marked suppressed"
    )
    scope = command.add_mutually_exclusive_group()
    scope.add_argument(
        "--new-only",
        dest="include_baseline",
        action="store_false",
        default=False,
        help="only findings the baseline did not have decide the exit status (default)",
    )
    scope.add_argument(
        "--all",
        dest="include_baseline",
        action="store_true",
        help="every finding decides the exit status, those the baseline had too",
    )


def document_options(command: argparse.ArgumentParser) -> None:
    """The options of every command that writes a document."""
    command.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    command.add_argument("--date", metavar="TEXT", help="a date to print (documents carry none unless given)")
    command.add_argument("--template-dir", metavar="DIR", help="templates that override the built-in ones")


def _shown(path: Path) -> str:
    """A path relative to where the user stands, when it is below it."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except (ValueError, OSError):
        return str(path)


def paths_of(args: argparse.Namespace) -> list[str]:
    """The paths a command reads: those given, else the configuration's `paths` (found from
    the current folder, as every entry point finds it), else the bundled specs."""
    if getattr(args, "proposal", None):
        return [args.proposal]
    if getattr(args, "paths", None):
        return args.paths
    configured = _configuration(args, Path.cwd()).default_paths()
    if configured:
        return [_shown(Path(p)) for p in configured]
    bundled = bundled_kvm_spec_dir() if args.command == "check" else bundled_spec_dir()
    return [_shown(bundled)]


def _configuration(args: argparse.Namespace, start: Path) -> Config:
    if getattr(args, "config", None):
        if not os.path.isfile(args.config):
            raise UsageError(f"{args.config}: no such configuration file")
        return load_config(Path(args.config))
    return config_for(start)


def config_of(args: argparse.Namespace, paths: list[str]) -> Config:
    return with_selection(_configuration(args, Path(paths[0] if paths[0] != "-" else ".")), args)


def _codes(text: str | None) -> tuple[str, ...]:
    return tuple(code.strip() for code in (text or "").split(",") if code.strip())


def with_selection(config: Config, args: argparse.Namespace) -> Config:
    """The configuration's rule selection with the command line's on top: `--select` in
    place of `select`, `--extend-select` added to it, `--ignore`/`--extend-ignore` added to
    `ignore`. An unknown code or name is a usage error, as it is in the configuration."""
    given = {key: _codes(getattr(args, key, None)) for key in ("select", "extend_select", "ignore", "extend_ignore")}
    for code in (code for codes in given.values() for code in codes):
        if as_selector(code) is None:
            raise UsageError(f"{code}: no rule, family or name matches it (`uapi-validator rules` lists them)")
    select, extend = [tuple(as_selector(c) or c for c in given[k]) for k in ("select", "extend_select")]
    ignore = tuple(as_selector(c) or c for c in given["ignore"] + given["extend_ignore"])
    if not (select or extend or ignore):
        return config
    chosen = select or config.select
    if extend and chosen:
        chosen = (*chosen, *extend)
    return replace(config, select=tuple(chosen), ignore=(*config.ignore, *ignore))


@frozen
class _Baseline:
    """The baseline side of diff mode: its files and units."""

    paths: list[str]  # parallel to the proposal's
    units: list[Unit]
    notes: list[str]
    revision: str  # the git revision, or ""
    source: LocalFiles | GitFiles
    counterpart: Callable[[str], str | None]  # a proposal file's path -> the baseline's


def _baseline_units(base: str, paths: list[str]) -> _Baseline:
    """The baseline's paths, units and notes, and how a proposal file maps onto it.

    A path of the proposal that the revision does not have is a new file: its baseline is
    empty, and a note says so. (A path that exists in neither place failed to load before.)
    """
    if base.startswith("git:"):
        rev = base[len("git:") :]
        if not rev:
            raise UsageError("--baseline git:REV needs a revision, e.g. git:HEAD or git:origin/main")
        files = GitFiles.holding(paths[0], rev)
        mapped = [files.display(p) for p in paths]
        present = [at_rev for at_rev in mapped if files.exists(at_rev)]
        notes = [
            f"{original}: not in git revision {rev}; compared with an empty baseline (a new file)"
            for original, at_rev in zip(paths, mapped, strict=True)
            if not files.exists(at_rev)
        ]
        units = load_units(present, files) if present else []
        return _Baseline(mapped, units, notes, rev, files, files.display)
    given = Path(paths[0])
    anchor_base, anchor_given = (Path(base), given) if os.path.isdir(base) else (Path(base).parent, given.parent)

    def counterpart(path: str) -> str | None:
        try:
            return str(anchor_base / Path(path).relative_to(anchor_given))
        except ValueError:
            return None

    return _Baseline([base], load_units([base]), [], "", LOCAL, counterpart)


def _new_unit_baseline(unit: Unit, baseline: _Baseline) -> Unit:
    """The baseline of a unit the baseline does not have: the baseline's versions of the files
    it includes (a new file that includes common.uapi adds nothing common.uapi declares)."""
    counterparts = [baseline.counterpart(f.path) for f in unit.files[1:]]
    targets = [c for c in counterparts if c is not None and baseline.source.is_file(c)]
    if not targets:
        return EMPTY_UNIT
    files: dict[str, SpecFile] = {}
    for included in load_units(targets, baseline.source):
        for spec_file in included.files:
            files.setdefault(spec_file.path, spec_file)
    first = next(iter(files))  # the unit stands where its first file does, for its directives
    return Unit(first, tuple(files.values()), (), False, os.path.dirname(first), baseline.source)


def _remainder(base: Unit, proposal_files: dict[str | None, SpecFile]) -> Unit:
    """What is left in the proposal of a removed unit: the files it included."""
    files = tuple(proposal_files[f.path] for f in base.files[1:] if f.path in proposal_files)
    return Unit("", files, (), False) if files else EMPTY_UNIT


def _key(root: str, given: list[str]) -> str:
    """Where a unit sits within the paths it was found under, to pair it with the baseline's."""
    for index, path in enumerate(given):
        normal = os.path.normpath(path)
        if os.path.normpath(root) == normal:
            return f"{index}"
        if root.startswith(normal.rstrip("/") + "/") or normal == ".":
            return f"{index}/{os.path.relpath(root, normal)}"
    return root


def header_options(args: argparse.Namespace) -> HeaderOptions:
    from validator.kernel.crosscheck import HeaderOptions  # the C header reader: crosscheck only

    """The headers a command names (`--header`, paths or <names>), checked to exist, and how
    to read them (`-I`, `--abi`)."""
    for header in args.header:
        if not (header.startswith("<") and header.endswith(">")) and not os.path.isfile(header):
            raise UsageError(f"{header}: no such header file")
    for directory in args.include:
        if not os.path.isdir(directory):
            raise UsageError(f"-I {directory}: no such directory")
    return HeaderOptions(tuple(args.include), args.abi)


def header_arguments(parser: argparse.ArgumentParser, *, abi_default: str | None, required: bool = True) -> None:
    """--header, -I and --abi: C headers read as the compiler for an ABI reads them."""
    parser.add_argument(
        "--header",
        action="append",
        required=required,
        default=None if required else [],
        metavar="H",
        help="a C header file, or <linux/kvm.h> found through -I (repeatable, read in order)",
    )
    parser.add_argument(
        "-I", dest="include", action="append", default=[], metavar="DIR", help="an include directory (repeatable)"
    )
    default = abi_default or "the spec's: kvm/arm64 -> aarch64, else x86_64"
    parser.add_argument("--abi", choices=sorted(ABIS), default=abi_default, help=f"the ABI (default: {default})")


def report_of(args: argparse.Namespace) -> Report:
    """The report of the paths the command names (or configures), with what was checked;
    kept in `args.kept_until_exit` where the process ends with the command (validator.cli.run)."""
    paths = paths_of(args)
    shown = [getattr(args, "stdin_filename", None) or "-"] if paths == ["-"] else paths
    report = replace(_report(args, paths, config_of(args, paths)), checked=tuple(shown))
    kept = getattr(args, "kept_until_exit", None)
    if kept is not None:
        kept.append(report)
    return report


def _report(args: argparse.Namespace, paths: list[str], config: Config) -> Report:
    headers = getattr(args, "header", None)
    if headers is not None:
        options = header_options(args)
        report = check_units(
            load_units(paths), config, directive_baseline, headers_for=lambda unit: headers, header_options=options
        )
        unreadable = next((f for f in report.findings if f.code == "E113"), None)
        if unreadable is not None:  # headers named on the command line: a usage error, not a finding
            raise UsageError(f"{args.command}: {unreadable.message}")
        if args.command == "crosscheck":  # what the headers say, and nothing else decides its exit
            report = replace(report, findings=tuple(f for f in report.findings if _crosscheck_finding(f)))
        return report
    base = getattr(args, "base", None) or getattr(args, "baseline", None)
    if paths == ["-"]:
        if base:
            raise UsageError(f"{args.command}: standard input has no baseline to compare with; name files")
        return check_units([_stdin_unit(args)], config, directive_baseline)
    if "-" in paths:
        raise UsageError("`-` (standard input) is the only path when given")
    if not base:
        return check_paths(paths, config)
    units = load_units(paths)  # the proposal first: a path that exists nowhere is its error
    baseline = _baseline_units(base, paths)
    by_key = {_key(u.root, baseline.paths): u for u in baseline.units}
    proposal_keys = {_key(u.root, paths) for u in units}
    # A removed unit is compared with the proposal's versions of the files it included.
    proposal_files = {baseline.counterpart(f.path): f for u in units for f in u.files}
    removed = [(u, _remainder(u, proposal_files)) for k, u in by_key.items() if k not in proposal_keys]

    def baseline_for(unit: Unit) -> Unit:
        # A unit the baseline does not have is new: every declaration it makes is added (and
        # the rules on added state apply), as removal is reported for a unit only the baseline has.
        return by_key.get(_key(unit.root, paths)) or _new_unit_baseline(unit, baseline)

    report = check_units(units, config, baseline_for, removed)
    report = replace(report, notes=(*baseline.notes, *report.notes), baseline_revision=baseline.revision)
    if args.command == "diff":  # what the change breaks, and new errors, without the standing hazards
        kept = tuple(f for f in report.findings if f.from_diff or (f.code.startswith("E") and not f.baseline))
        report = replace(report, findings=kept)
    return report


def _stdin_unit(args: argparse.Namespace) -> Unit:
    """The spec on standard input, named by --stdin-filename (its folder anchors includes)."""
    name = getattr(args, "stdin_filename", None) or "-"
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None:
        raise UsageError("`-`: there is no standard input to read")
    return load_bytes_unit(stream.read(MAX_FILE_BYTES + 1), name)


def with_conformance(report: Report, config: Config) -> tuple[Report, dict[str, str]]:
    """For `test`: the findings of `conform` added for each file that expects a CONFORM-stage
    code (a K example), where this machine has a kernel to ask; elsewhere those files are
    skipped, with why."""
    wanting = sorted(
        path
        for path, spec_file in report.files.items()
        if any(
            (rule := lookup(code)) is not None and rule.stage == CONFORM for e in spec_file.expects for code in e.codes
        )
    )
    if not wanting:
        return report, {}
    # The kernel transports and the argument probes: loaded only where a K example is tested.
    from validator.kernel.conform import NotConformable, kvm_conformer
    from validator.kernel.kvm import Kvm, KvmUnavailable, available

    missing = available()
    if missing is not None:
        return report, dict.fromkeys(wanting, f"needs the running kernel (conform): {missing}")
    try:
        with Kvm() as kvm:
            asked = conform_units(load_units(wanting), kvm_conformer(kvm, 2, os.uname().release), config)
    except (KvmUnavailable, NotConformable) as exc:
        return report, dict.fromkeys(wanting, f"conform: {exc}")
    added = tuple(f for f in asked.findings if f.span.path in wanting)
    return replace(report, findings=tuple(sorted(report.findings + added, key=lambda f: f.sort_key))), {}


def inputs_of(report: Report, args: argparse.Namespace) -> list[str]:
    """The files a run read, which no output of it may overwrite."""
    return [*report.files, *(getattr(args, "header", None) or ())]


def require_no_errors(report: Report) -> None:
    """Commands that execute or export a spec need one with no errors: say where the first is."""
    errors = [f for f in report.findings if f.code.startswith("E") and f.suppressed is None]
    if errors:
        first = errors[0]
        raise UsageError(
            f"{first.span.path}:{first.span.line}:{first.span.column}: {first.message} "
            f"(the spec has {len(errors)} error(s); `check` lists them)"
        )


DOCUMENT_SUFFIX = {"markdown": "md", "html": "html", "email": "email", "text": "txt"}


def template_dir_of(args: argparse.Namespace) -> Path | None:
    if args.template_dir is None:
        return None
    if not os.path.isdir(args.template_dir):
        raise UsageError(f"{args.template_dir}: no such template folder")
    return Path(args.template_dir)
