"""Findings: small immutable values that every stage produces and reporters consume."""

from __future__ import annotations

from dataclasses import dataclass

from validator.spans import Span

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)
SEVERITY_RANK = {INFO: 1, WARNING: 2, ERROR: 3}


@dataclass(frozen=True, slots=True)
class Related:
    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One reported problem.

    `name` and `severity` are stamped from the catalog by the engine (and the severity may
    be changed by configuration); rules leave them empty.
    """

    code: str
    span: Span
    message: str
    subject: str = ""
    hint: str = ""
    related: tuple[Related, ...] = ()
    name: str = ""
    severity: str = ""
    suppressed: str | None = None  # the reason given by `# allow:`
    baseline: bool = False  # the baseline already had it (diff mode)

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.span.path, self.span.line, self.span.column, self.code, self.message)
