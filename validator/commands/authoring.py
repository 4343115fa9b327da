"""`fmt` and `lsp`: the tools authors use in their editors."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from validator import TOOL_NAME
from validator.commands import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    Command,
    UsageError,
)
from validator.frontend import textfile
from validator.frontend.load import discover
from validator.pipeline.config import config_for
from validator.report.output import write_text
from validator.tools.fmt import FormatError, format_text


def fmt(args: argparse.Namespace) -> int:
    paths = args.paths or ["."]
    config = config_for(Path(paths[0]))
    files = [path for path, _ in discover(paths) if not config.excluded_from_fmt(path)]
    changed, broken = [], []
    for path in files:
        try:
            # The one reader: bytes decoded as check decodes them, with no newline translation
            # (a CR inside a comment stays in the comment), a byte-order mark kept aside.
            data = textfile.read_bytes(path)
            bom = data.startswith(b"\xef\xbb\xbf")
            text = textfile.decode(data)
            formatted = format_text(text, path)
        except FormatError as exc:
            broken.append(str(exc))
            continue
        except textfile.FileProblem as exc:
            broken.append(str(exc))
            continue
        except UnicodeDecodeError as exc:
            broken.append(f"{path}: not valid UTF-8 (byte {exc.start})")
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
            write_text(("\ufeff" if bom else "") + formatted, path)
    for problem in broken:
        print(f"{TOOL_NAME}: error: {problem} (not formatted)", file=sys.stderr)
    verb = "would reformat" if args.check or args.diff else "reformatted"
    print(f"{verb} {len(changed)} of {len(files)} file{'s' if len(files) != 1 else ''}", file=sys.stderr)
    if broken:
        return EXIT_USAGE
    return EXIT_FINDINGS if args.check and changed else EXIT_OK


def lsp(args: argparse.Namespace) -> int:
    if sys.stdin is None or sys.stdout is None:
        raise UsageError("the language server talks over standard input and output, and one of them is closed")
    try:
        from validator.tools.lsp import serve  # pygls is an optional extra: import it only here
    except ImportError:
        raise UsageError("the language server needs pygls: pip install 'uapi-validator[lsp]'") from None
    return EXIT_OK if serve() else EXIT_USAGE


# The commands of this module: their arguments beside their handlers.
def _fmt_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="spec files or folders (default: the current folder)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 and show a diff if a file is not formatted"
    )
    mode.add_argument("--diff", action="store_true", help="write nothing; show what would change")


def _lsp_arguments(parser: argparse.ArgumentParser) -> None:
    pass  # no arguments


COMMANDS = (
    Command("fmt", "rewrite specs in the canonical layout", _fmt_arguments, fmt),
    Command("lsp", "run the language server on stdin/stdout (for editors)", _lsp_arguments, lsp),
)
