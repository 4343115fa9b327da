"""The `uapi-validator` command line. Parses arguments, runs a stage, renders, sets the exit status.

Exit status: 0 when nothing reaches the fail level, 1 when something does (or a self-check
fails), 2 for usage and I/O errors, which print one line and never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from validator import TOOL_NAME, __version__
from validator import model as m
from validator.cheader import read_headers
from validator.config import Config, ConfigError, find_config, load_config
from validator.crosscheck import HeaderRegisters, header_registers, import_spec
from validator.docs import catalog_view, rule_doc_view
from validator.engine import Report, check_paths, check_units, directive_baseline
from validator.findings import SEVERITY_RANK
from validator.fmt import FormatError, format_text
from validator.formats import junit_document, sarif_document
from validator.load import Unit, discover, load_units
from validator.output import OutputError, write_text
from validator.render import TemplateProblem, render
from validator.resources import bundled_kvm_spec_dir, bundled_spec_dir
from validator.review import compare_view, design_facts, review_view
from validator.rules import CATALOG, lookup
from validator.scenario import KINDS, VMMS, run_all
from validator.scenario import run as run_scenario
from validator.selftest import FAILED, PASSED, SKIPPED, compare
from validator.sources import GitFiles, InputError
from validator.spans import Span
from validator.view import github_view, json_document, simulation_csv, simulation_json, simulation_view, text_view

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FAIL_LEVELS = ("error", "warning", "info", "never")
FORMATS = ("text", "json", "sarif", "github", "junit")


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse's own convention)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _output_options(command: argparse.ArgumentParser) -> None:
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


def _document_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    command.add_argument("--date", metavar="TEXT", help="a date to print (documents carry none unless given)")
    command.add_argument("--template-dir", metavar="DIR", help="templates that override the built-in ones")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=TOOL_NAME, description="A design checker for Linux kernel userspace APIs (KVM first).")
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    check = commands.add_parser("check", help="check specs and report findings")
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="spec files or folders (default: the bundled KVM specs)"
    )
    check.add_argument("--baseline", metavar="BASE", help="compare with BASE: a file, a folder, or git:REV")
    _output_options(check)

    diff = commands.add_parser("diff", help="report what breaks between a baseline and a proposal")
    diff.add_argument("base", metavar="BASE", help="the baseline: a file, a folder, or git:REV")
    diff.add_argument("proposal", metavar="PROPOSED", help="the proposed spec file or folder")
    _output_options(diff)

    simulate = commands.add_parser("simulate", help="run scenarios and measure what the design costs")
    simulate.add_argument("path", metavar="PATH", help="a spec file or folder")
    simulate.add_argument("--scenario", metavar="NAME", help="run only this declared scenario")
    simulate.add_argument("--vcpus", metavar="N,N,...", help="vCPU counts (default: each scenario's own)")
    simulate.add_argument("--kind", choices=KINDS, help="run an undeclared scenario of this kind")
    simulate.add_argument("--vmm", choices=VMMS, default="generic", help="the VMM model of --kind (default: generic)")
    simulate.add_argument("--trace", action="store_true", help="print the op sequence for the smallest vCPU count")
    simulate.add_argument("--format", choices=("text", "json", "csv"), default="text")
    simulate.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    review = commands.add_parser("review", help="write a review document (Markdown, HTML, or a mailing-list reply)")
    review.add_argument("proposal", metavar="PROPOSED", help="the spec file or folder under review")
    review.add_argument("--baseline", metavar="BASE", help="compare with BASE: a file, a folder, or git:REV")
    review.add_argument("--format", choices=("markdown", "html", "email"), default="markdown")
    _document_options(review)
    review.add_argument(
        "--fail-on", choices=FAIL_LEVELS, default="error", help="the verdict's fail level (default: error)"
    )
    review.add_argument("--config", metavar="FILE", help="configuration file (default: found upward from the spec)")
    review.add_argument(
        "--all", dest="include_baseline", action="store_true", help="findings the baseline had count in the verdict too"
    )

    compare = commands.add_parser("compare", help="compare design alternatives side by side")
    compare.add_argument("designs", nargs="+", metavar="SPEC", help="two or more spec files or folders")
    compare.add_argument("--format", choices=("markdown", "html", "text"), default="text")
    _document_options(compare)

    catalog = commands.add_parser("catalog", help="render the rule catalog (the text `explain` prints)")
    catalog.add_argument("--format", choices=("markdown", "html"), default="markdown")
    _document_options(catalog)

    cross = commands.add_parser("crosscheck", help="cross-check register ids against C UAPI headers")
    cross.add_argument("paths", nargs=1, metavar="SPEC", help="the spec file or folder")
    cross.add_argument("--header", action="append", required=True, metavar="PATH", help="a C header (repeatable)")
    _output_options(cross)

    importer = commands.add_parser("import", help="write a starting spec for registers a C header defines")
    importer.add_argument("--header", action="append", required=True, metavar="PATH", help="a C header (repeatable)")
    importer.add_argument("--prefix", required=True, help="the macro name prefix, e.g. KVM_REG_ARM_FW")
    importer.add_argument("--api", default="kvm/arm64", help='the api name to write (default: "kvm/arm64")')
    importer.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")

    export = commands.add_parser("export", help="export what the spec defines (the register list)")
    export.add_argument("what", choices=("reglist",), help="reglist: the sorted ids of every listed register")
    export.add_argument("path", metavar="SPEC", help="the spec file or folder")
    export.add_argument("--format", choices=("text", "c"), default="text")
    export.add_argument("--check", metavar="FILE", help="compare with a checked-in list; exit 1 on drift")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")

    fmt = commands.add_parser("fmt", help="rewrite specs in the canonical layout")
    fmt.add_argument("paths", nargs="*", metavar="PATH", help="spec files or folders (default: the current folder)")
    mode = fmt.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 and show a diff if a file is not formatted"
    )
    mode.add_argument("--diff", action="store_true", help="write nothing; show what would change")

    commands.add_parser("lsp", help="run the language server on stdin/stdout (for editors)")

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
    except (InputError, OutputError, UsageError, ConfigError, TemplateProblem) as exc:
        print(f"{TOOL_NAME}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug of ours: one line for the user, the traceback on request
        if os.environ.get("UAPI_VALIDATOR_DEBUG"):
            raise
        print(
            f"{TOOL_NAME}: internal error: {type(exc).__name__}: {exc} "
            "(set UAPI_VALIDATOR_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _paths(args: argparse.Namespace) -> list[str]:
    if getattr(args, "proposal", None):
        return [args.proposal]
    if args.paths:
        return args.paths
    bundled = bundled_kvm_spec_dir() if args.command == "check" else bundled_spec_dir()
    try:  # shown relative to where the user stands, when it is below it
        return [os.path.relpath(bundled) if bundled.is_relative_to(os.getcwd()) else str(bundled)]
    except ValueError:
        return [str(bundled)]


def _config(args: argparse.Namespace, paths: list[str]) -> Config:
    if args.config:
        if not os.path.isfile(args.config):
            raise UsageError(f"{args.config}: no such configuration file")
        return load_config(Path(args.config))
    return load_config(find_config(Path(paths[0])))


def _baseline_units(base: str, paths: list[str]) -> tuple[list[str], list[Unit]]:
    """The baseline's paths (parallel to the proposal's) and its units."""
    if base.startswith("git:"):
        rev = base[len("git:") :]
        if not rev:
            raise UsageError("--baseline git:REV needs a revision, e.g. git:HEAD or git:origin/main")
        files = GitFiles.holding(paths[0], rev)
        mapped = [files.display(p) for p in paths]
        for original, at_rev in zip(paths, mapped, strict=True):
            if not files.exists(at_rev):
                raise InputError(f"{original} does not exist at git revision {rev}")
        return mapped, load_units(mapped, files)
    return [base], load_units([base])


def _key(root: str, given: list[str]) -> str:
    """Where a unit sits within the paths it was found under, to pair it with the baseline's."""
    for index, path in enumerate(given):
        normal = os.path.normpath(path)
        if os.path.normpath(root) == normal:
            return f"{index}"
        if root.startswith(normal.rstrip("/") + "/") or normal == ".":
            return f"{index}/{os.path.relpath(root, normal)}"
    return root


def _run(args: argparse.Namespace) -> Report:
    paths = _paths(args)
    config = _config(args, paths)
    headers = getattr(args, "header", None)
    if headers is not None:
        for header in headers:
            if not os.path.isfile(header):
                raise UsageError(f"{header}: no such header file")
        return check_units(load_units(paths), config, directive_baseline, headers_for=lambda unit: headers)
    base = getattr(args, "base", None) or getattr(args, "baseline", None)
    if not base:
        return check_paths(paths, config)
    base_paths, base_units = _baseline_units(base, paths)
    units = load_units(paths)
    by_key = {_key(u.root, base_paths): u for u in base_units}
    proposal_keys = {_key(u.root, paths) for u in units}
    removed = [u for k, u in by_key.items() if k not in proposal_keys]
    report = check_units(units, config, lambda unit: by_key.get(_key(unit.root, paths)), removed)
    if args.command == "diff":  # what the change breaks, without the proposal's standing hazards
        report = replace(report, findings=tuple(f for f in report.findings if f.from_diff))
    return report


def _use_color(choice: str, output: str | None) -> bool:
    if choice != "auto":
        return choice == "always"
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _fails(report: Report, level: str, include_baseline: bool) -> bool:
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
        return sarif_document(report)
    if fmt == "junit":
        return junit_document(report, args.fail_on, args.include_baseline)
    if fmt == "github":
        return render("github.txt.j2", github_view(report))
    return render("check.txt.j2", text_view(report, color=_use_color(args.color, destination)))


def _extra_outputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    outputs = []
    for item in args.output_format:
        fmt, sep, destination = item.partition("=")
        if not sep or fmt not in FORMATS or not destination:
            raise UsageError(f"--output-format takes FORMAT=FILE with FORMAT one of {', '.join(FORMATS)}, not {item!r}")
        outputs.append((fmt, destination))
    return outputs


def _check(args: argparse.Namespace) -> int:
    extra = _extra_outputs(args)  # a bad flag fails before any work or any file is written
    report = _run(args)
    for fmt, destination in extra:
        write_text(render_report(report, fmt, args, destination), destination)
    write_text(render_report(report, args.format, args, args.output), args.output)
    return EXIT_FINDINGS if _fails(report, args.fail_on, args.include_baseline) else EXIT_OK


def _test(args: argparse.Namespace) -> int:
    results = compare(_run(args), {})
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


def _vcpu_counts(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise UsageError(f"--vcpus takes positive counts separated by commas, such as 1,8,64,512, not {text!r}")
    return counts


def _require_no_errors(report: Report) -> None:
    """Commands that execute or export a spec need one with no errors: say where the first is."""
    errors = [f for f in report.findings if f.code.startswith("E") and f.suppressed is None]
    if errors:
        first = errors[0]
        raise UsageError(
            f"{first.span.path}:{first.span.line}:{first.span.column}: {first.message} "
            f"(the spec has {len(errors)} error(s); `check` lists them)"
        )


def _simulate(args: argparse.Namespace) -> int:
    counts = _vcpu_counts(args.vcpus)
    report = check_paths([args.path])
    _require_no_errors(report)
    results = []
    for spec in report.specs:
        if args.kind:
            span = spec.api.span if spec.api else Span.point(spec.root, 1, 1)
            adhoc = m.Scenario(f"{args.kind}-{args.vmm}", span, args.kind, vmm=args.vmm)
            results.append(run_scenario(spec, adhoc, counts, trace=args.trace))
            continue
        for scenario in spec.scenarios.values():
            if args.scenario in (None, scenario.name):
                results.append(run_scenario(spec, scenario, counts, trace=args.trace))
    if args.scenario and not results:
        raise UsageError(f"no scenario named {args.scenario!r} in {args.path}")
    if args.format == "json":
        text = simulation_json(results)
    elif args.format == "csv":
        text = simulation_csv(results)
    else:
        text = (
            render("simulate.txt.j2", simulation_view(results))
            if results
            else "no scenarios (declare one, or use --kind)\n"
        )
    write_text(text, args.output)
    failed = any(r.first_failure or r.overruns for r in results)
    return EXIT_FINDINGS if failed else EXIT_OK


_DOCUMENT_SUFFIX = {"markdown": "md", "html": "html", "email": "email", "text": "txt"}


def _template_dir(args: argparse.Namespace) -> Path | None:
    if args.template_dir is None:
        return None
    if not os.path.isdir(args.template_dir):
        raise UsageError(f"{args.template_dir}: no such template folder")
    return Path(args.template_dir)


def _review(args: argparse.Namespace) -> int:
    report = _run(args)
    view = review_view(
        report, fail_on=args.fail_on, include_baseline=args.include_baseline, baseline=args.baseline, date=args.date
    )
    text = render(f"review.{_DOCUMENT_SUFFIX[args.format]}.j2", view, template_dir=_template_dir(args))
    write_text(text, args.output)
    return EXIT_OK if view["verdict"]["passed"] else EXIT_FINDINGS


def _compare(args: argparse.Namespace) -> int:
    if len(args.designs) < 2:
        raise UsageError("compare needs at least two designs")
    designs = []
    for path in args.designs:
        report = check_paths([path])
        designs.append(design_facts(path, report, [r for spec in report.specs for r in run_all(spec)]))
    text = render(
        f"compare.{_DOCUMENT_SUFFIX[args.format]}.j2",
        compare_view(designs, args.date),
        template_dir=_template_dir(args),
    )
    write_text(text, args.output)
    return EXIT_OK


def _catalog(args: argparse.Namespace) -> int:
    view = {**catalog_view(), "date": args.date}
    write_text(
        render(f"catalog.{_DOCUMENT_SUFFIX[args.format]}.j2", view, template_dir=_template_dir(args)), args.output
    )
    return EXIT_OK


def _headers(paths: list[str]) -> HeaderRegisters:
    for header in paths:
        if not os.path.isfile(header):
            raise UsageError(f"{header}: no such header file")
    return header_registers(read_headers(paths))


def _import(args: argparse.Namespace) -> int:
    registers = import_spec(_headers(args.header), args.prefix)
    if not registers:
        raise UsageError(f"no register id macro in {', '.join(args.header)} starts with {args.prefix!r}")
    view = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "headers": args.header,
        "prefix": args.prefix,
        "api": args.api,
        "registers": registers,
    }
    write_text(render("import.uapi.j2", view), args.output)
    return EXIT_OK


_LISTED_ID = re.compile(r"0[xX]([0-9a-fA-F]{1,16})")


def _export(args: argparse.Namespace) -> int:
    report = check_paths([args.path])
    _require_no_errors(report)
    listed = {
        r.id: {"id": r.id, "name": r.name, "opt_in": r.opt_in.text if r.opt_in else ""}
        for spec in report.specs
        for r in spec.registers.values()
        if r.id is not None and any(i.enumerable for i in spec.interfaces_of(r))
    }
    registers = [listed[i] for i in sorted(listed)]
    if args.check:
        try:
            checked_in = Path(args.check).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{args.check}: cannot read: {exc.strerror or exc}") from None
        ids = {
            int(h, 16)
            for line in checked_in.splitlines()
            for h in _LISTED_ID.findall(line.split("#")[0].split("/*")[0])
        }
        names = {int(h, 16): line for line in checked_in.splitlines() for h in _LISTED_ID.findall(line)}
        view = {
            "checked": args.check,
            "spec": args.path,
            "count": len(registers),
            "appeared": [r for r in registers if r["id"] not in ids],
            "vanished": [{"id": i, "name": _name_in(names[i])} for i in sorted(ids - set(listed))],
        }
        write_text(render("reglist-drift.txt.j2", view), args.output)
        return EXIT_FINDINGS if view["appeared"] or view["vanished"] else EXIT_OK
    view = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "spec": args.path,
        "registers": registers,
        "array": "uapi_reglist",
    }
    write_text(render(f"reglist.{'c' if args.format == 'c' else 'txt'}.j2", view), args.output)
    return EXIT_OK


def _name_in(line: str) -> str:
    """The register name a checked-in line carries in its comment, if any."""
    found = re.search(r"(?:#|/\*)\s*([A-Za-z_]\w*)", line)
    return found.group(1) if found else "(unnamed)"


def _fmt(args: argparse.Namespace) -> int:
    paths = args.paths or ["."]
    config = load_config(find_config(Path(paths[0])))
    files = [path for path, _ in discover(paths) if not config.excluded_from_fmt(path)]
    changed, broken = [], []
    for path in files:
        try:
            text = Path(path).read_text(encoding="utf-8")
            formatted = format_text(text, path)
        except FormatError as exc:
            broken.append(str(exc))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            broken.append(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}")
            continue
        if formatted == text:
            continue
        changed.append(path)
        if args.check or args.diff:
            diff = difflib.unified_diff(
                text.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                f"{path} (as written)",
                f"{path} (formatted)",
            )
            sys.stdout.writelines(diff)
        else:
            write_text(formatted, path)
    for problem in broken:
        print(f"{TOOL_NAME}: error: {problem} (not formatted)", file=sys.stderr)
    verb = "would reformat" if args.check or args.diff else "reformatted"
    print(f"{verb} {len(changed)} of {len(files)} file{'s' if len(files) != 1 else ''}", file=sys.stderr)
    if broken:
        return EXIT_USAGE
    return EXIT_FINDINGS if args.check and changed else EXIT_OK


def _lsp(args: argparse.Namespace) -> int:
    try:
        from validator.lsp import serve  # pygls is an optional extra: import it only here
    except ImportError:
        raise UsageError("the language server needs pygls: pip install 'uapi-validator[lsp]'") from None
    serve()
    return EXIT_OK


_COMMANDS = {
    "lsp": _lsp,
    "fmt": _fmt,
    "check": _check,
    "diff": _check,
    "crosscheck": _check,
    "import": _import,
    "export": _export,
    "simulate": _simulate,
    "review": _review,
    "compare": _compare,
    "catalog": _catalog,
    "test": _test,
    "rules": _rules,
    "explain": _explain,
}
