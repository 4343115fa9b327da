"""Review documents and design comparisons: the facts a reviewer reads, as plain dicts.

Everything here is data: counts, findings with the spec lines they quote, rule
documentation, scenario figures, checklist items. The templates (review.*.j2,
compare.*.j2, catalog.*.j2) decide every word and pixel.
"""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath
from typing import Any

from validator import TOOL_NAME, __version__
from validator.frontend.layout import LayoutError, StructLayout, lay_out
from validator.frontend.resolve import ResolvedSpec
from validator.model import spec as m
from validator.model.findings import SEVERITIES, SEVERITY_RANK, Finding
from validator.model.spans import Span
from validator.model.words import describe
from validator.pipeline.engine import Report
from validator.report.view import SourceLines, change_record, finding_record, scenario_record
from validator.rules import BY_CODE
from validator.rules._facts import is_new

_KINDS = (
    ("registers", m.Register),
    ("features", m.Feature),
    ("interfaces", m.Interface),
    ("capabilities", m.Capability),
    ("locks", m.Lock),
    ("scenarios", m.Scenario),
)


def _quote(source: SourceLines, span: Span) -> list[dict[str, Any]]:
    lines = source(span.path)
    return [
        {"line": n, "text": lines[n - 1]}
        for n in range(span.line, min(span.end_line, span.line + 2) + 1)
        if 1 <= n <= len(lines)
    ]


def _docs(report: Report) -> dict[str, str]:
    """The `doc` string of every declaration, by subject (`register/NAME`)."""
    return {
        f"{type(d).__name__.lower()}/{d.name}": doc
        for s in report.specs
        for d in s.declarations()
        if (doc := getattr(d, "doc", None))
    }


def _finding(source: SourceLines, finding: Finding, docs: dict[str, str]) -> dict[str, Any]:
    rule = BY_CODE[finding.code]
    quoted = _quote(source, finding.span)
    for related in finding.related:
        quoted.extend(
            q
            for q in _quote(source, Span.point(related.span.path, related.span.line, 1))
            if related.span.path == finding.span.path and q not in quoted
        )
    return {
        **finding_record(finding),
        "quoted": sorted(quoted, key=lambda q: q["line"]),
        "doc": docs.get(finding.subject, ""),
        "explanation": rule.section("What it finds"),
        "consequence": rule.section("Why it matters"),
        "fix": rule.section("How to fix"),
    }


def _counts(spec_list: tuple[ResolvedSpec, ...]) -> dict[str, int]:
    seen: dict[str, set[str]] = {name: set() for name, _ in _KINDS}
    for spec in spec_list:
        for decl in spec.declarations():
            for name, kind in _KINDS:
                if isinstance(decl, kind):
                    seen[name].add(decl.name)
    return {name: len(names) for name, names in seen.items()}


def _checklist(report: Report, findings: list[Finding]) -> list[dict[str, Any]]:
    """What a reviewer should ask for, derived from what changed (or, with no baseline, what is new)."""
    codes = Counter(f.code for f in findings)
    changed = [c for c in report.changes if c.kind != "removed" or c.attribute] if report.diffed else []
    new_registers = sorted({d.name for s in report.specs for d in s.registers.values() if is_new(s, d.since)})
    with_ids = [c for c in report.changes if c.subject.startswith("register/") and c.attribute in ("", "name", "id")]
    items = []
    documented = sorted({c.subject for c in changed}) or [f"register/{n}" for n in new_registers]
    if documented:
        items.append({"kind": "documentation", "subjects": documented})
    if codes["C505"] or codes["C503"]:
        subjects = sorted({f.subject for f in findings if f.code in ("C505", "C503")})
        items.append({"kind": "capability", "subjects": subjects})
    if with_ids or (not report.diffed and new_registers):
        subjects = sorted({c.subject for c in with_ids}) or [f"register/{n}" for n in new_registers]
        items.append({"kind": "reglist-selftest", "subjects": subjects})
    if codes["C503"] or codes["C504"]:
        subjects = sorted({f.subject for f in findings if f.code in ("C503", "C504")})
        items.append({"kind": "migration", "subjects": subjects})
    if any(f.code.startswith("B") or f.code == "A302" for f in findings):
        subjects = sorted({f.subject for f in findings if f.code.startswith("B") or f.code == "A302"})
        items.append({"kind": "abi-break", "subjects": subjects})
    if any(s.scenarios for s in report.specs) or codes["S202"]:
        items.append(
            {"kind": "scenarios", "subjects": sorted({f.subject for f in findings if f.code in ("S202", "X702")})}
        )
    return items


def layout_tables(spec_list: tuple[ResolvedSpec, ...]) -> list[dict[str, Any]]:
    """Each declared struct's layout on each of its spec's ABIs, a row per field, with the
    holes and tail padding the compiler adds as rows of their own; `differs` marks a row (and
    a struct) whose offset or size is not the same on every ABI."""
    tables: dict[str, dict[str, Any]] = {}
    for spec in spec_list:
        types = dict(spec.types)
        for struct in spec.types.values():
            if not isinstance(struct, m.Struct) or struct.name in tables:
                continue
            try:
                layouts = {abi: lay_out(types, struct, abi) for abi in spec.abis}
            except LayoutError:
                continue  # an undeclared type: E102's
            tables[struct.name] = _layout_table(struct, layouts)
    return [tables[name] for name in sorted(tables)]


def _layout_table(struct: m.Struct, layouts: dict[str, StructLayout]) -> dict[str, Any]:
    abis = list(layouts)
    holes = {
        abi: {(f.name.text if f else None): (o, n) for o, n, f in layout.holes()} for abi, layout in layouts.items()
    }
    rows: list[dict[str, Any]] = []

    def gap_row(key: str | None, what: str) -> None:
        cells = {abi: holes[abi].get(key) for abi in abis}
        if any(cells.values()):
            rows.append(
                {
                    "kind": "hole" if key is not None else "tail",
                    "name": what,
                    "type": "",
                    "cells": {abi: list(cell) if cell else None for abi, cell in cells.items()},
                    "differs": len({cell for cell in cells.values()}) > 1,
                }
            )

    for index, field in enumerate(struct.fields):
        gap_row(field.name.text, f"(hole before {field.name.text})")
        placed = {abi: layouts[abi].fields[index] for abi in abis}
        cells = {abi: [p.offset, p.size] for abi, p in placed.items()}
        rows.append(
            {
                "kind": field.kind,
                "name": field.name.text,
                "type": describe(field.type),
                "cells": cells,
                "differs": len({tuple(cell) for cell in cells.values()}) > 1,
            }
        )
    gap_row(None, "(tail padding)")
    sizes = {abi: layout.size for abi, layout in layouts.items()}
    return {
        "name": struct.name,
        "union": struct.union,
        "path": struct.span.path,
        "line": struct.span.line,
        "abis": abis,
        "sizes": sizes,
        "rows": rows,
        "differs": len(set(sizes.values())) > 1 or any(row["differs"] for row in rows),
        "holes": sum(row["kind"] in ("hole", "tail") for row in rows),
    }


def review_view(
    report: Report,
    *,
    fail_on: str,
    include_baseline: bool,
    baseline: str | None,
    date: str | None,
) -> dict[str, Any]:
    shown = [f for f in report.findings if f.suppressed is None]
    deciding = [f for f in shown if include_baseline or not f.baseline]
    threshold = SEVERITY_RANK.get(fail_on, 99)
    apis = sorted({(s.api.name, s.api.version) for s in report.specs if s.api})
    docs = _docs(report)
    source = SourceLines(report.files)
    return {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "date": date,
        "apis": [{"name": n, "version": v} for n, v in apis],
        "files": list(report.files),
        "counts": _counts(report.specs),
        "baseline": baseline,
        "verdict": {
            "passed": not any(SEVERITY_RANK[f.severity] >= threshold for f in deciding),
            "fail_on": fail_on,
            "counts": {s: sum(1 for f in shown if f.severity == s) for s in SEVERITIES},
            "new_counts": {s: sum(1 for f in shown if f.severity == s and not f.baseline) for s in SEVERITIES},
        },
        "diffed": report.diffed,
        "changes": [change_record(c) for c in report.changes],
        "groups": [
            {"severity": s, "findings": [_finding(source, f, docs) for f in shown if f.severity == s]}
            for s in SEVERITIES
        ],
        "suppressed": [_finding(source, f, docs) for f in report.findings if f.suppressed is not None],
        "scenarios": [scenario_record(r) for r in report.results],
        "checklist": _checklist(report, shown),
        "layouts": layout_tables(report.specs),
        "conformed": [
            {
                "root": c.root,
                "kernel": c.kernel,
                "counts": dict(c.counts),
                "reasons": [{"count": n, "why": why} for n, why in c.reasons],
            }
            for c in report.conformed
        ],
    }


def design_facts(path: str, report: Report) -> dict[str, Any]:
    """One design's column in a comparison."""
    results = report.results
    shown = [f for f in report.findings if f.suppressed is None]
    specs = report.specs
    new_interfaces = sorted({i.name for s in specs for i in s.interfaces.values() if is_new(s, i.since)})
    new_caps = sorted(
        {c.name for s in specs for c in s.capabilities.values() if isinstance(c, m.Capability) and is_new(s, c.since)}
    )
    points = [p for r in results for p in r.points]
    largest = max((p.vcpus for p in points), default=0)
    at_largest = [p for p in points if p.vcpus == largest]
    return {
        "name": PurePosixPath(path).name,
        "path": path,
        "apis": sorted({f"{s.api.name} {s.api.version}" for s in specs if s.api}),
        "by_severity": {s: sum(1 for f in shown if f.severity == s) for s in SEVERITIES},
        "by_code": dict(sorted(Counter(f.code for f in shown).items())),
        "new_interfaces": new_interfaces,
        "new_capabilities": new_caps,
        "unenumerated": sorted({f.subject for f in shown if f.code == "C504"}),
        "hinted": sorted({f"register/{r.name}" for s in specs for r in s.registers.values() if r.hint}),
        "serialized_growth": results[0].serialized_growth if results else "unknown",
        "largest_vcpus": largest,
        "serialized_at_largest": sum(p.serialized for p in at_largest),
        "blackout_at_largest_ns": sum(p.blackout_ns for p in at_largest),
        "failed_scenarios": sum(1 for r in results if r.first_failure or r.overruns),
        "scenarios": [scenario_record(r) for r in results],
    }


def compare_view(designs: list[dict[str, Any]], date: str | None) -> dict[str, Any]:
    counts = sorted({p["vcpus"] for d in designs for s in d["scenarios"] for p in s["points"]})
    codes = sorted({c for d in designs for c in d["by_code"]})
    return {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "date": date,
        "designs": designs,
        "codes": [{"code": c, "name": BY_CODE[c].name, "severity": BY_CODE[c].severity} for c in codes],
        "vcpu_counts": counts,
    }
