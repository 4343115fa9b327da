"""`simulate`, `review`, `compare`, `catalog`: what a design costs, and documents to read."""

from __future__ import annotations

import argparse
import platform
from dataclasses import replace

from validator import TOOL_NAME, __version__
from validator.commands import (
    DOCUMENT_SUFFIX,
    EXIT_FINDINGS,
    EXIT_OK,
    FAIL_LEVELS,
    Command,
    UsageError,
    config_of,
    document_options,
    inputs_of,
    report_of,
    require_no_errors,
    template_dir_of,
)
from validator.commands.kernel import conform_report, target_options
from validator.kernel.conform import is_msr_id
from validator.kernel.kvm import Kvm, KvmUnavailable
from validator.model import spec as m
from validator.model.spans import Span
from validator.pipeline.engine import check_paths
from validator.report import jsondoc
from validator.report.docs import catalog_view
from validator.report.output import write_text
from validator.report.render import render
from validator.report.review import compare_view, design_facts, review_view
from validator.report.view import simulation_csv, simulation_json, simulation_view
from validator.rules import lookup
from validator.rules.catalog import CONFORM
from validator.simulate.measure import Measurement, measure_restore
from validator.simulate.scenario import KINDS, VMMS
from validator.simulate.scenario import run as run_scenario


def _vcpu_counts(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) > m.MAX_VCPU_COUNTS:
        raise UsageError(f"--vcpus takes at most {m.MAX_VCPU_COUNTS} counts, not {len(parts)}")
    try:
        counts = tuple(int(part) for part in parts if len(part.strip()) <= m.MAX_LITERAL_DIGITS)
    except ValueError:
        counts = ()
    if len(counts) != len(parts) or not counts or min(counts) < 1 or max(counts) > m.MAX_VCPUS:
        raise UsageError(
            f"--vcpus takes counts from 1 to {m.MAX_VCPUS} separated by commas, such as 1,8,64,512, not {text[:80]!r}"
        )
    return counts


MEASURED_VCPUS = (1, 2, 4, 8, 16, 32, 64)


def simulate(args: argparse.Namespace) -> int:
    if args.measure:
        return _measure(args)
    counts = _vcpu_counts(args.vcpus)
    report = check_paths([args.path])
    require_no_errors(report)
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
    write_text(text, args.output, report.files)
    failed = any(r.first_failure or r.overruns for r in results)
    return EXIT_FINDINGS if failed else EXIT_OK


def _measure(args: argparse.Namespace) -> int:
    """`simulate --measure`: each spec's restore written for real on this machine's KVM."""
    counts = _vcpu_counts(args.vcpus) or MEASURED_VCPUS
    if max(counts) > MAX_MEASURED_VCPUS:
        raise UsageError(f"--measure creates real vCPUs: at most {MAX_MEASURED_VCPUS} per VM")
    report = check_paths([args.path])
    require_no_errors(report)
    measurements = []
    try:
        with Kvm() as kvm:
            for spec in report.specs:
                scenario = next((s for s in spec.scenarios.values() if s.kind == "restore"), None)
                costs = _costs(scenario)
                vmm = (scenario.vmm if scenario else None) or args.vmm
                measured = measure_restore(spec, counts, kvm.create_vm, is_msr_id, vmm=vmm, **costs)
                measurements.append(
                    {"path": spec.root, "scenario": scenario.name if scenario else "", **_measured_view(measured)}
                )
    except KvmUnavailable as exc:
        raise UsageError(f"simulate --measure: {exc}") from None
    view = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "kernel": f"Linux {platform.release()} ({platform.machine()})",
        "measurements": measurements,
    }
    text = jsondoc.dumps(view) if args.format == "json" else render("measure.txt.j2", view)
    write_text(text, args.output, report.files)
    return EXIT_OK


MAX_MEASURED_VCPUS = 256


def _costs(scenario: m.Scenario | None) -> dict[str, int]:
    if scenario is None:
        return {}
    costs = {"ioctl_ns": scenario.cost_ioctl_ns, "lock_ns": scenario.cost_lock_ns, "threads": scenario.host_threads}
    return {name: value for name, value in costs.items() if value is not None}


def _measured_view(measured: Measurement) -> dict[str, object]:
    return {
        "vmm": measured.vmm,
        "registers": list(measured.registers),
        "skipped": list(measured.skipped),
        "points": [
            {
                "vcpus": p.vcpus,
                "writes": p.writes,
                "wall_ns": p.wall_ns,
                "ns_per_write": p.ns_per_write,
                "model_writes": p.model_writes,
                "model_blackout_ns": p.model_blackout_ns,
            }
            for p in measured.points
        ],
        "growth": {"measured": measured.measured_growth, "model": measured.model_growth},
    }


def review(args: argparse.Namespace) -> int:
    report = report_of(args)
    if args.conform:
        if args.baseline:
            raise UsageError("--conform asks the kernel about the proposal alone: drop --baseline, or review twice")
        paths = list(report.checked)
        asked = conform_report(args, paths, config_of(args, paths))
        kernel_findings = tuple(
            f for f in asked.findings if (rule := lookup(f.code)) is not None and rule.stage == CONFORM
        )
        merged = tuple(sorted(report.findings + kernel_findings, key=lambda f: f.sort_key))
        report = replace(report, findings=merged, conformed=asked.conformed)
    view = review_view(
        report, fail_on=args.fail_on, include_baseline=args.include_baseline, baseline=args.baseline, date=args.date
    )
    text = render(f"review.{DOCUMENT_SUFFIX[args.format]}.j2", view, template_dir=template_dir_of(args))
    write_text(text, args.output, inputs_of(report, args))
    return EXIT_OK if view["verdict"]["passed"] else EXIT_FINDINGS


def compare_designs(args: argparse.Namespace) -> int:
    if len(args.designs) < 2:
        raise UsageError("compare needs at least two designs")
    reports = [check_paths([path]) for path in args.designs]
    designs = [design_facts(path, report) for path, report in zip(args.designs, reports, strict=True)]
    text = render(
        f"compare.{DOCUMENT_SUFFIX[args.format]}.j2",
        compare_view(designs, args.date),
        template_dir=template_dir_of(args),
    )
    write_text(text, args.output, [path for report in reports for path in report.files])
    return EXIT_OK


def catalog(args: argparse.Namespace) -> int:
    view = {**catalog_view(), "date": args.date}
    write_text(
        render(f"catalog.{DOCUMENT_SUFFIX[args.format]}.j2", view, template_dir=template_dir_of(args)), args.output
    )
    return EXIT_OK


# The commands of this module: their arguments beside their handlers.
def _simulate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="a spec file or folder")
    parser.add_argument("--scenario", metavar="NAME", help="run only this declared scenario")
    parser.add_argument("--vcpus", metavar="N,N,...", help="vCPU counts (default: each scenario's own)")
    parser.add_argument("--kind", choices=KINDS, help="run an undeclared scenario of this kind")
    parser.add_argument("--vmm", choices=VMMS, default="generic", help="the VMM model of --kind (default: generic)")
    parser.add_argument("--trace", action="store_true", help="print the op sequence for the smallest vCPU count")
    parser.add_argument(
        "--measure",
        action="store_true",
        help="run each spec's restore for real on this machine's KVM, beside the model (default vCPUs: 1,2,...,64)",
    )
    parser.add_argument("--format", choices=("text", "json", "csv"), default="text")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def _review_arguments(parser: argparse.ArgumentParser) -> None:

    parser.add_argument(
        "proposal", nargs="?", metavar="PROPOSED", help="the spec file or folder under review (default: as for check)"
    )
    parser.add_argument("--baseline", metavar="BASE", help="compare with BASE: a file, a folder, or git:REV")
    parser.add_argument("--format", choices=("markdown", "html", "email"), default="markdown")
    document_options(parser)
    parser.add_argument(
        "--fail-on", choices=FAIL_LEVELS, default="error", help="the verdict's fail level (default: error)"
    )
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: found upward from the spec)")
    parser.add_argument(
        "--all", dest="include_baseline", action="store_true", help="findings the baseline had count in the verdict too"
    )
    parser.add_argument(
        "--conform",
        action="store_true",
        help="ask the running kernel each claim too (see conform), and show its answers",
    )
    target_options(parser)


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("designs", nargs="+", metavar="SPEC", help="two or more spec files or folders")
    parser.add_argument("--format", choices=("markdown", "html", "text"), default="text")
    document_options(parser)


def _catalog_arguments(parser: argparse.ArgumentParser) -> None:

    parser.add_argument("--format", choices=("markdown", "html"), default="markdown")
    document_options(parser)


COMMANDS = (
    Command("simulate", "run scenarios and measure what the design costs", _simulate_arguments, simulate),
    Command("review", "write a review document (Markdown, HTML, or a mailing-list reply)", _review_arguments, review),
    Command("compare", "compare design alternatives side by side", _compare_arguments, compare_designs),
    Command("catalog", "render the rule catalog (the text `explain` prints)", _catalog_arguments, catalog),
)
