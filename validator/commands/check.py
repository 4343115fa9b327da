"""`check`, `diff`, `crosscheck`, `test`, `rules`, `explain`: findings, and the formats CI reads."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from validator import TOOL_NAME
from validator.commands import (
    EXIT_FINDINGS,
    EXIT_OK,
    FORMATS,
    Command,
    UsageError,
    config_of,
    header_arguments,
    inputs_of,
    output_options,
    report_of,
    with_conformance,
)
from validator.model.findings import SEVERITY_RANK
from validator.pipeline.engine import Report
from validator.pipeline.selftest import FAILED, PASSED, SKIPPED, compare
from validator.report.docs import rule_doc_view
from validator.report.formats import SarifOptions, junit_document, sarif_document
from validator.report.output import write_text
from validator.report.view import github_view, json_document, text_view
from validator.rules import CATALOG, lookup


def render(template: str, view: dict[str, Any]) -> str:
    """A template rendered; jinja2 is loaded only for the formats that are templates (JSON,
    SARIF and JUnit are written without it)."""
    from validator.report.render import render as render_template

    return render_template(template, view)


def use_color(choice: str, output: str | None) -> bool:
    if choice != "auto":
        return choice == "always"
    # NO_COLOR counts when set and not empty (no-color.org); FORCE_COLOR likewise forces it.
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return output is None and sys.stdout is not None and sys.stdout.isatty()


def fails(report: Report, level: str, include_baseline: bool) -> bool:
    if level == "never":
        return False
    threshold = SEVERITY_RANK[level]
    return any(
        SEVERITY_RANK[f.severity] >= threshold
        for f in report.findings
        if f.suppressed is None and (include_baseline or not f.baseline)
    )


def render_report(report: Report, fmt: str, args: argparse.Namespace, destination: str | None) -> str:
    if fmt == "json":
        return json_document(report)
    if fmt == "sarif":
        options = SarifOptions(source_root(), getattr(args, "category", None), getattr(args, "show_suppressed", False))
        return sarif_document(report, options)
    if fmt == "junit":
        return junit_document(report, args.fail_on, args.include_baseline)
    if fmt == "github":
        return render("github.txt.j2", github_view(report))
    view = text_view(
        report,
        color=use_color(args.color, destination),
        show_source=getattr(args, "show_source", True),
        quiet=getattr(args, "quiet", False),
        statistics=getattr(args, "statistics", False),
    )
    return render("check.txt.j2", view)


def source_root() -> str:
    """What SARIF URIs are relative to: the git top level above the current folder (a
    `.git` folder or file), else the current folder."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return str(folder)
    return str(here)


def extra_outputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The FORMAT=FILE outputs beside the main one. A bare FORMAT (ruff's `--output-format
    json`) names the main output's format."""
    outputs = []
    for item in args.output_format:
        fmt, sep, destination = item.partition("=")
        if not sep and fmt in FORMATS:
            args.format = fmt
            continue
        if not sep or fmt not in FORMATS or not destination:
            raise UsageError(
                f"--output-format takes FORMAT or FORMAT=FILE with FORMAT one of {', '.join(FORMATS)}, not {item!r}"
            )
        outputs.append((fmt, destination))
    return outputs


def check(args: argparse.Namespace) -> int:
    extra = extra_outputs(args)  # a bad flag fails before any work or any file is written
    return emit_report(report_of(args), args, extra)


def emit_report(report: Report, args: argparse.Namespace, extra: list[tuple[str, str]]) -> int:
    """Write the report in every format asked for; the exit status its findings decide."""
    inputs = inputs_of(report, args)
    for fmt, destination in extra:
        write_text(render_report(report, fmt, args, destination), destination, inputs)
    write_text(render_report(report, args.format, args, args.output), args.output, inputs)
    if getattr(args, "exit_zero", False):
        return EXIT_OK
    return EXIT_FINDINGS if fails(report, args.fail_on, args.include_baseline) else EXIT_OK


def test(args: argparse.Namespace) -> int:
    report = report_of(args)
    report, skipped = with_conformance(report, config_of(args, list(report.checked)))
    results = compare(report, skipped)
    view: dict[str, Any] = {
        "checked": list(report.checked),
        "results": [
            {
                "path": r.path,
                "status": r.status,
                "expected": r.expected,
                "note": r.note,
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


def rules(args: argparse.Namespace) -> int:
    write_text(render("rules.txt.j2", {"rules": CATALOG}), None)
    return EXIT_OK


def explain(args: argparse.Namespace) -> int:
    rule = lookup(args.rule)
    if rule is None:
        raise UsageError(f"no rule has the code or name {args.rule!r} (see `{TOOL_NAME} rules`)")
    write_text(render("explain.txt.j2", {"rule": rule_doc_view(rule)}), None)
    return EXIT_OK


# The commands of this module: their arguments beside their handlers.
def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="spec files or folders (default: the configuration's `paths`, else the bundled KVM specs)",
    )
    parser.add_argument("--baseline", metavar="BASE", help="compare with BASE: a file, a folder, or git:REV")
    output_options(parser)


def _diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", help="the baseline: a file, a folder, or git:REV")
    parser.add_argument("proposal", metavar="PROPOSED", help="the proposed spec file or folder")
    output_options(parser)


def _crosscheck_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs=1, metavar="SPEC", help="the spec file or folder")
    header_arguments(parser, abi_default=None)
    output_options(parser)


def _test_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="spec files or folders (default: the configuration's `paths`, else the bundled specs)",
    )
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: found upward from the spec)")


def _rules_arguments(parser: argparse.ArgumentParser) -> None:
    pass  # no arguments


def _explain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule", metavar="CODE|NAME")


COMMANDS = (
    Command("check", "check specs and report findings", _check_arguments, check),
    Command("diff", "report what breaks between a baseline and a proposal", _diff_arguments, check),
    Command("crosscheck", "cross-check register ids against C UAPI headers", _crosscheck_arguments, check),
    Command("test", "compare findings with each file's `# expect:` comments", _test_arguments, test),
    Command("rules", "list the rule catalog", _rules_arguments, rules),
    Command("explain", "print a rule's documentation and examples", _explain_arguments, explain),
)
