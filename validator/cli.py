"""The `uapi-validator` command line. Parses arguments, runs a stage, renders, sets the exit status.

Exit status: 0 when nothing reaches the fail level, 1 when something does (or a self-check
fails), 2 for usage and I/O errors, which print one line and never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from validator import TOOL_NAME, __version__, collector
from validator.commands import EXIT_INTERNAL, EXIT_USAGE, Command, UsageError
from validator.frontend.sources import InputError
from validator.frontend.textfile import FileProblem
from validator.pipeline.config import ConfigError
from validator.report.output import OutputError, TemplateProblem
from validator.report.textsafe import terminal_safe


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns, as it finds them (COLUMNS, then the terminal, then 80)."""
    with contextlib.suppress(ValueError):
        if (columns := int(os.environ.get("COLUMNS", "0"))) > 0:
            return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter at the width argparse would find: argparse makes one for every
    argument declared, and its own way imports shutil (with bz2 and lzma), 5 ms of a cold start."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_terminal_columns() - 2)  # less 2, as argparse takes it


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse's own convention)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# Each command, in the order `--help` lists them, with the module of validator.commands that
# declares it. Only the module of the command that runs is imported: a JSON check never loads
# the C header reader, jinja2 or the kernel transports (a third of its cold start).
MODULES = {
    "check": "check",
    "diff": "check",
    "check-patch": "patch",
    "simulate": "documents",
    "trace": "trace",
    "review": "documents",
    "compare": "documents",
    "catalog": "documents",
    "crosscheck": "check",
    "inspect": "kernel",
    "import": "kernel",
    "export": "kernel",
    "probe": "kernel",
    "conform": "kernel",
    "fmt": "authoring",
    "lsp": "authoring",
    "test": "check",
    "rules": "check",
    "explain": "check",
}
ORDER = tuple(MODULES)


def commands(names: Sequence[str] = ORDER) -> dict[str, Command]:
    """The commands `names` (their modules imported), by name."""
    found: dict[str, Command] = {}
    for module in dict.fromkeys(MODULES[n] for n in names):
        for command in importlib.import_module(f"validator.commands.{module}").COMMANDS:
            found[command.name] = command
    return {name: found[name] for name in names}


def _command_named(argv: Sequence[str]) -> str | None:
    """The command argv runs, where it is plain before parsing (the first word that is not an
    option); None to have every command declared (`--help`, an unknown command)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in MODULES else None


def argument_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given argv, only the command it runs is declared in full."""
    parser = _Parser(prog=TOOL_NAME, description="A design checker for Linux kernel userspace APIs (KVM first).")
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    running = _command_named(argv) if argv is not None else None
    # Only the running command: the others' parsers would never be read (the usage line names
    # COMMAND, not the choices), and each costs argparse a round of gettext lookups.
    for name, command in commands([running] if running else ORDER).items():
        command.add_arguments(subparsers.add_parser(name, help=command.help))
    return parser


def _interrupted(signum: int, frame: object) -> None:
    """The first Ctrl-C stops the run; from then on Ctrl-C is ignored, so a second one cannot
    print a traceback while the first unwinds (setting this in the `except` came too late
    when both arrived within a few milliseconds)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def run() -> NoReturn:
    """The command line's entry point (`uapi-validator`, `python -m validator`): `main`, then
    the process ends without tearing the interpreter down, as mypy's does. Freeing every
    object and module one by one took a seventh of a small check's wall time, and there is
    nothing left to do: every `with` has closed its file, and standard output and error are
    flushed here. `main` itself returns, for callers in the same process."""
    args = _parsed(sys.argv[1:])
    if args.command != "lsp":  # the server lives on, and collects (collector.settle)
        # The process ends with the command: the collector stays off, and the report is kept
        # to the end rather than freed object by object (together 60 ms of a 10k check).
        collector.off_until_exit()
        args.kept_until_exit = []
    status = _execute(args)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    return _execute(_parsed(sys.argv[1:] if argv is None else list(argv)))


def _parsed(argv: list[str]) -> argparse.Namespace:
    return argument_parser(argv).parse_args(argv)


def _execute(args: argparse.Namespace) -> int:
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
        # A one-shot command's model lives until it ends; the language server pauses the
        # collector per analysis instead.
        with collector.paused(args.command != "lsp"):
            return commands([args.command])[args.command].run(args)
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
