"""The `uapi-validator` command line. Parses arguments, runs a stage, renders, sets the exit status.

Exit status: 0 when nothing reaches the fail level, 1 when something does (or a self-check
fails), 2 for usage and I/O errors, which print one line and never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from validator import TOOL_NAME, __version__
from validator.commands import EXIT_INTERNAL, EXIT_USAGE, FAIL_LEVELS, FORMATS, UsageError, authoring, documents, kernel
from validator.commands import check as checking
from validator.config import ConfigError
from validator.output import OutputError
from validator.render import TemplateProblem
from validator.scenario import KINDS, VMMS
from validator.sources import InputError
from validator.textfile import FileProblem
from validator.textsafe import terminal_safe


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse's own convention)
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
        "paths",
        nargs="*",
        metavar="PATH",
        help="spec files or folders (default: the configuration's `paths`, else the bundled KVM specs)",
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
    review.add_argument(
        "proposal", nargs="?", metavar="PROPOSED", help="the spec file or folder under review (default: as for check)"
    )
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
    test.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="spec files or folders (default: the configuration's `paths`, else the bundled specs)",
    )
    test.add_argument("--config", metavar="FILE", help="configuration file (default: found upward from the spec)")

    commands.add_parser("rules", help="list the rule catalog")

    explain = commands.add_parser("explain", help="print a rule's documentation and examples")
    explain.add_argument("rule", metavar="CODE|NAME")
    return parser


@contextmanager
def _collector_paused(pause: bool) -> Iterator[None]:
    """A one-shot command builds a model that lives until the command ends, and holds no
    reference cycles: Python's cycle collector would walk it again and again (a fifth of the
    time of a large check) and free nothing. The language server, which lives on, keeps it."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with _collector_paused(args.command != "lsp"):
            return _COMMANDS[args.command](args)
    except (InputError, OutputError, UsageError, ConfigError, TemplateProblem, FileProblem) as exc:
        _say(f"{TOOL_NAME}: error: {terminal_safe(exc)}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        # A second Ctrl-C while Python shuts down would print a traceback: ignore it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return 130
    except Exception as exc:  # a bug of ours: one line for the user, the traceback on request
        if os.environ.get("UAPI_VALIDATOR_DEBUG"):
            raise
        _say(
            f"{TOOL_NAME}: internal error: {type(exc).__name__}: {terminal_safe(exc)} "
            "(set UAPI_VALIDATOR_DEBUG=1 for the traceback, and please report it)"
        )
        return EXIT_INTERNAL


def _say(line: str) -> None:
    """One line on standard error, if there is one to write to."""
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            print(line, file=sys.stderr)


_COMMANDS = {
    "lsp": authoring.lsp,
    "fmt": authoring.fmt,
    "check": checking.check,
    "diff": checking.check,
    "crosscheck": checking.check,
    "import": kernel.import_header,
    "export": kernel.export,
    "simulate": documents.simulate,
    "review": documents.review,
    "compare": documents.compare_designs,
    "catalog": documents.catalog,
    "test": checking.test,
    "rules": checking.rules,
    "explain": checking.explain,
}
