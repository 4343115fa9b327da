"""The `uapi-validator` command line. Parses arguments, runs a stage, renders, sets the exit status.

Exit status: 0 when nothing reaches the fail level, 1 when something does (or a self-check
fails), 2 for usage and I/O errors, which print one line and never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from validator import TOOL_NAME, __version__
from validator.catalog import DOC_SECTIONS
from validator.config import Config, ConfigError, find_config, load_config
from validator.engine import Report, check_paths
from validator.findings import SEVERITY_RANK
from validator.load import InputError
from validator.output import OutputError, write_text
from validator.render import render
from validator.resources import bundled_kvm_spec_dir, bundled_spec_dir, rule_examples_dir
from validator.rules import CATALOG, lookup
from validator.selftest import FAILED, PASSED, SKIPPED, compare
from validator.view import json_document, text_view

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FAIL_LEVELS = ("error", "warning", "info", "never")


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse's own convention)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=TOOL_NAME, description="A design checker for Linux kernel userspace APIs (KVM first).")
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    check = commands.add_parser("check", help="check specs and report findings")
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="spec files or folders (default: the bundled KVM specs)"
    )
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    check.add_argument(
        "--fail-on",
        choices=FAIL_LEVELS,
        default="error",
        help="exit 1 when a finding reaches this severity (default: error)",
    )
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    check.add_argument("--config", metavar="FILE", help="configuration file (default: found upward from the spec)")

    test = commands.add_parser("test", help="compare findings with each file's `# expect:` comments")
    test.add_argument("paths", nargs="*", metavar="PATH", help="spec files or folders (default: the bundled spec)")
    test.add_argument("--config", metavar="FILE", help="configuration file (default: found upward from the spec)")

    commands.add_parser("rules", help="list the rule catalog")

    explain = commands.add_parser("explain", help="print a rule's documentation and examples")
    explain.add_argument("rule", metavar="CODE|NAME")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (InputError, OutputError, UsageError, ConfigError) as exc:
        print(f"{TOOL_NAME}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _paths(args: argparse.Namespace) -> list[str]:
    if args.paths:
        return args.paths
    bundled = bundled_kvm_spec_dir() if args.command == "check" else bundled_spec_dir()
    try:  # shown relative to where the user stands, when it is below it
        return [os.path.relpath(bundled) if bundled.is_relative_to(os.getcwd()) else str(bundled)]
    except ValueError:
        return [str(bundled)]


def _use_color(choice: str, output: str | None) -> bool:
    if choice != "auto":
        return choice == "always"
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _fails(report: Report, level: str) -> bool:
    if level == "never":
        return False
    threshold = SEVERITY_RANK[level]
    return any(SEVERITY_RANK[f.severity] >= threshold for f in report.findings if f.suppressed is None)


def _config(args: argparse.Namespace, paths: list[str]) -> Config:
    if args.config:
        if not os.path.isfile(args.config):
            raise UsageError(f"{args.config}: no such configuration file")
        return load_config(Path(args.config))
    return load_config(find_config(Path(paths[0])))


def _run(args: argparse.Namespace) -> Report:
    paths = _paths(args)
    return check_paths(paths, _config(args, paths))


def _check(args: argparse.Namespace) -> int:
    report = _run(args)
    if args.format == "json":
        text = json_document(report)
    else:
        text = render("check.txt.j2", text_view(report, color=_use_color(args.color, args.output)))
    write_text(text, args.output)
    return EXIT_FINDINGS if _fails(report, args.fail_on) else EXIT_OK


def _test(args: argparse.Namespace) -> int:
    report = _run(args)
    skipped = {
        path: f"needs diff mode against its `# baseline: {spec_file.baseline.path}` (not available yet)"
        for path, spec_file in report.files.items()
        if spec_file.baseline is not None
    }
    results = compare(report, skipped)
    view: dict[str, Any] = {
        "results": [
            {
                "path": r.path,
                "status": r.status,
                "expected": r.expected,
                "note": r.note,
                "pending": r.pending,
                "mismatches": [_mismatch_view(m) for m in r.mismatches],
            }
            for r in results
        ],
        "counts": {status: sum(1 for r in results if r.status == status) for status in (PASSED, FAILED, SKIPPED)},
    }
    write_text(render("test.txt.j2", view), None)
    return EXIT_FINDINGS if view["counts"][FAILED] else EXIT_OK


def _mismatch_view(mismatch: Any) -> dict[str, Any]:
    rule = lookup(mismatch.code)
    return {
        "path": mismatch.path,
        "line": mismatch.line,
        "code": mismatch.code,
        "kind": mismatch.kind,
        "name": rule.name if rule else "",
        "stage": rule.stage if rule else "",
        "message": mismatch.finding.message if mismatch.finding else "",
    }


def _rules(args: argparse.Namespace) -> int:
    write_text(render("rules.txt.j2", {"rules": CATALOG}), None)
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    rule = lookup(args.rule)
    if rule is None:
        raise UsageError(f"no rule has the code or name {args.rule!r} (see `{TOOL_NAME} rules`)")
    write_text(render("explain.txt.j2", {"rule": rule_doc_view(rule)}), None)
    return EXIT_OK


def rule_doc_view(rule: Any) -> dict[str, Any]:
    """A rule's documentation with its example files (spec/rules/<CODE>-<name>/)."""
    folder = rule_examples_dir() / f"{rule.code}-{rule.name}"

    def example(name: str) -> str:
        path = folder / name
        return path.read_text(encoding="utf-8").rstrip("\n") if path.is_file() else ""

    return {
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity,
        "summary": rule.summary,
        "implemented": rule.implemented,
        "sections": [{"title": t, "body": rule.section(t)} for t in DOC_SECTIONS if rule.section(t)],
        "fail_example": example("fail.uapi"),
        "pass_example": example("pass.uapi"),
    }


_COMMANDS = {"check": _check, "test": _test, "rules": _rules, "explain": _explain}
