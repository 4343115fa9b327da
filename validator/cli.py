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
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from validator import TOOL_NAME, __version__
from validator.commands import EXIT_INTERNAL, EXIT_USAGE, UsageError, authoring, documents, kernel, patch
from validator.commands import check as checking
from validator.frontend.sources import InputError
from validator.frontend.textfile import FileProblem
from validator.pipeline.config import ConfigError
from validator.report.output import OutputError
from validator.report.render import TemplateProblem
from validator.report.textsafe import terminal_safe


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse's own convention)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# The commands in the order `--help` lists them.
ORDER = (
    "check",
    "diff",
    "check-patch",
    "simulate",
    "review",
    "compare",
    "catalog",
    "crosscheck",
    "inspect",
    "import",
    "export",
    "probe",
    "conform",
    "fmt",
    "lsp",
    "test",
    "rules",
    "explain",
)
COMMANDS = {
    command.name: command
    for command in (*checking.COMMANDS, *documents.COMMANDS, *kernel.COMMANDS, *patch.COMMANDS, *authoring.COMMANDS)
}


def argument_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=TOOL_NAME, description="A design checker for Linux kernel userspace APIs (KVM first).")
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for name in ORDER:
        command = COMMANDS[name]
        command.add_arguments(commands.add_parser(name, help=command.help))
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


def _interrupted(signum: int, frame: object) -> None:
    """The first Ctrl-C stops the run; from then on Ctrl-C is ignored, so a second one cannot
    print a traceback while the first unwinds (setting this in the `except` came too late
    when both arrived within a few milliseconds)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = argument_parser().parse_args(argv)
    with _interrupt_once():
        return _run(args)


@contextmanager
def _interrupt_once() -> Iterator[None]:
    """Ctrl-C handled by `_interrupted` while a command runs; the caller's handler is back
    afterwards unless an interrupt came (then Ctrl-C stays ignored until the process ends)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _interrupted)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is _interrupted:
            signal.signal(signal.SIGINT, previous)


def _run(args: argparse.Namespace) -> int:
    try:
        with _collector_paused(args.command != "lsp"):
            return COMMANDS[args.command].run(args)
    except (InputError, OutputError, UsageError, ConfigError, TemplateProblem, FileProblem) as exc:
        _say(f"{TOOL_NAME}: error: {terminal_safe(exc)}")
        return EXIT_USAGE
    except KeyboardInterrupt:
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
