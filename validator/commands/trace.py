"""`trace`: a VMM's restore, as strace logged it, beside the spec's model of it."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from validator.commands import EXIT_OK, Command, UsageError
from validator.frontend.load import display_path, load_text_unit, load_units
from validator.frontend.resolve import ResolvedSpec
from validator.frontend.sources import InputError
from validator.kernel.strace import read_trace
from validator.pipeline.engine import check_unit
from validator.pipeline.observed import TraceComparison, compare_trace, counts_view
from validator.report import jsondoc
from validator.report.output import write_text
from validator.rules.errors import STRUCTURAL_ERRORS

MAX_TRACE_BYTES = 512 * 1024 * 1024  # a trace is read line by line; a larger one is no restore


def trace(args: argparse.Namespace) -> int:
    spec = trace_spec(args.spec)
    with _lines(args.trace) as lines:
        comparison = compare_trace(spec, read_trace(lines), args.vmm)
    view = trace_view(comparison)
    if args.format == "json":
        text = jsondoc.dumps(view)
    else:
        from validator.report.render import render  # jinja2: for the text only

        text = render("trace.txt.j2", view)
    write_text(text, args.output, [args.trace, args.spec])
    return EXIT_OK


def trace_spec(path: str) -> ResolvedSpec:
    """The spec a trace is compared with: a file, or a folder's own .uapi files (not its
    subfolders: `history/` holds earlier versions) as one spec."""
    target = Path(path)
    if target.is_dir():
        files = sorted(p.name for p in target.glob("*.uapi") if p.is_file())
        if not files:
            raise InputError(f"{path}: no .uapi file in this folder")
        text = "".join(f'include "{name}"\n' for name in files)
        unit = load_text_unit(text, display_path(target / ".trace.uapi"))
    elif target.is_file():
        (unit,) = load_units([path])[:1]
    else:
        raise InputError(f"{path}: no such spec file or folder")
    spec, findings, _ = check_unit(unit, codes=())  # its load and resolve errors: no rule need run
    errors = sorted((f for f in findings if f.code in STRUCTURAL_ERRORS), key=lambda f: f.sort_key)
    if errors:
        first = errors[0]
        where = f"{first.span.path}:{first.span.line}:{first.span.column}"
        raise InputError(f"{where}: {first.message} (the spec has errors; `uapi-validator check` lists them)")
    return spec


@contextlib.contextmanager
def _lines(path: str) -> Iterator[TextIO]:
    """The trace's lines, read as they are iterated (never a FIFO or a device: it could block)."""
    if path == "-":
        yield sys.stdin
        return
    try:
        if not os.path.isfile(path):
            raise InputError(f"{path}: not a regular file")
        size = os.stat(path).st_size
        if size > MAX_TRACE_BYTES:
            raise InputError(f"{path}: {size} bytes; a trace over {MAX_TRACE_BYTES >> 20} MiB is not read")
        stream = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the trace: {exc.strerror or exc}") from None
    with stream:
        yield stream


def trace_view(comparison: TraceComparison) -> dict[str, Any]:
    """The JSON document (and the text template's view)."""
    return {
        "vcpus": comparison.vcpus,
        "vmm_model": comparison.vmm,
        "observed": counts_view(comparison.observed),
        "model": counts_view(comparison.model),
        "interfaces": [
            {
                "interface": row.interface.name,
                "scope": row.interface.scope,
                "batch": row.interface.batch,
                "predicted": counts_view(row.predicted),
                "observed": counts_view(row.observed),
                "predicted_total": row.predicted_total,
                "observed_total": row.observed_total,
                "serialized": row.serialized,
                "registers": list(row.registers),
                "untouched_by_vmm": row.untouched,
                "set_by_vmm_only": row.vmm_only,
            }
            for row in comparison.interfaces
        ],
        "errors": [
            {
                "ioctl": error.ioctl,
                "scope": error.scope,
                "errno": error.errno,
                "count": error.count,
                "first_line": error.first_line,
                "explained_by": error.claim,
                "where": None if error.where is None else f"{error.where.path}:{error.where.line}",
            }
            for error in comparison.errors
        ],
        "unmapped": counts_view(comparison.unmapped),
        "skipped_lines": comparison.skipped_lines,
    }


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace", metavar="TRACE", help="an `strace -f -e trace=ioctl` log of a VMM; - for stdin")
    parser.add_argument("--spec", required=True, metavar="SPEC", help="a spec file, or a folder of them")
    parser.add_argument("--vmm", choices=("generic", "hint_aware"), help="the VMM model (default: the spec's)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def _run(args: argparse.Namespace) -> int:
    if args.trace != "-" and not os.path.exists(args.trace):
        raise UsageError(f"{args.trace}: no such trace file")
    return trace(args)


COMMANDS = (Command("trace", "set a VMM's strace log beside the spec's model of its restore", _arguments, _run),)
