"""What the commands share: usage errors, exit codes, and turning arguments into a report."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from validator.config import Config, find_config, load_config
from validator.engine import Report, check_paths, check_units, directive_baseline
from validator.findings import Finding
from validator.load import EMPTY_UNIT, Unit, load_units
from validator.resources import bundled_kvm_spec_dir, bundled_spec_dir
from validator.rules.errors import STRUCTURAL_ERRORS
from validator.sources import GitFiles

FAIL_LEVELS = ("error", "warning", "info", "never")
FORMATS = ("text", "json", "sarif", "github", "junit")


def _crosscheck_finding(finding: Finding) -> bool:
    """What `crosscheck` reports: the headers' word on the spec (E111, E112, H9xx), and the
    errors that keep a spec or a header from being read at all. Scenario failures and design
    hazards are `check`'s, so CI can gate on header drift alone."""
    return finding.code in ("E111", "E112") or finding.code.startswith("H") or finding.code in STRUCTURAL_ERRORS


EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    pass


def paths_of(args: argparse.Namespace) -> list[str]:
    if getattr(args, "proposal", None):
        return [args.proposal]
    if args.paths:
        return args.paths
    bundled = bundled_kvm_spec_dir() if args.command == "check" else bundled_spec_dir()
    try:  # shown relative to where the user stands, when it is below it
        return [os.path.relpath(bundled) if bundled.is_relative_to(os.getcwd()) else str(bundled)]
    except ValueError:
        return [str(bundled)]


def config_of(args: argparse.Namespace, paths: list[str]) -> Config:
    if args.config:
        if not os.path.isfile(args.config):
            raise UsageError(f"{args.config}: no such configuration file")
        return load_config(Path(args.config))
    return load_config(find_config(Path(paths[0])))


def _baseline_units(base: str, paths: list[str]) -> tuple[list[str], list[Unit], list[str], str]:
    """The baseline's paths (parallel to the proposal's), its units, notes, and the git revision.

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
        return mapped, load_units(present, files) if present else [], notes, rev
    return [base], load_units([base]), [], ""


def _key(root: str, given: list[str]) -> str:
    """Where a unit sits within the paths it was found under, to pair it with the baseline's."""
    for index, path in enumerate(given):
        normal = os.path.normpath(path)
        if os.path.normpath(root) == normal:
            return f"{index}"
        if root.startswith(normal.rstrip("/") + "/") or normal == ".":
            return f"{index}/{os.path.relpath(root, normal)}"
    return root


def report_of(args: argparse.Namespace) -> Report:
    paths = paths_of(args)
    config = config_of(args, paths)
    headers = getattr(args, "header", None)
    if headers is not None:
        for header in headers:
            if not os.path.isfile(header):
                raise UsageError(f"{header}: no such header file")
        report = check_units(load_units(paths), config, directive_baseline, headers_for=lambda unit: headers)
        if args.command == "crosscheck":  # what the headers say, and nothing else decides its exit
            report = replace(report, findings=tuple(f for f in report.findings if _crosscheck_finding(f)))
        return report
    base = getattr(args, "base", None) or getattr(args, "baseline", None)
    if not base:
        return check_paths(paths, config)
    units = load_units(paths)  # the proposal first: a path that exists nowhere is its error
    base_paths, base_units, notes, revision = _baseline_units(base, paths)
    by_key = {_key(u.root, base_paths): u for u in base_units}
    proposal_keys = {_key(u.root, paths) for u in units}
    removed = [u for k, u in by_key.items() if k not in proposal_keys]
    # A unit the baseline does not have is new: compared with an empty baseline, every
    # declaration it makes is added (and the rules on added state apply), as removal is
    # reported for a unit only the baseline has.
    report = check_units(units, config, lambda unit: by_key.get(_key(unit.root, paths), EMPTY_UNIT), removed)
    report = replace(report, notes=(*notes, *report.notes), baseline_revision=revision)
    if args.command == "diff":  # what the change breaks, and the proposal's errors, without its standing hazards
        report = replace(report, findings=tuple(f for f in report.findings if f.from_diff or f.code.startswith("E")))
    return report


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
