"""Findings: small immutable values that every stage produces and reporters consume."""

from __future__ import annotations

import re

from validator.model.frozen import frozen
from validator.model.spans import Span

# The interpreter's own SHA-256, where it has one under a known name: hashlib sets OpenSSL up
# first, 3-4 ms of a cold start, for a digest that is the same.
try:
    from _sha256 import sha256  # type: ignore[import-not-found]  # Python 3.11
except ImportError:  # pragma: no cover - 3.12 renamed it; a build without it
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]
    except ImportError:
        from hashlib import sha256

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)
SEVERITY_RANK = {INFO: 1, WARNING: 2, ERROR: 3}


@frozen
class Related:
    """Another place a finding points at, with what it shows there."""

    span: Span
    message: str


@frozen
class Problem:
    """What a check found, before it is named: the rule that yields it makes it a `Finding`
    with its code, name and severity (`Rule.report`), so a check never writes its own code."""

    span: Span
    message: str
    subject: str = ""
    hint: str = ""
    related: tuple[Related, ...] = ()


@frozen
class Finding:
    """One reported problem, named by its rule (`Rule.report`); configuration may change its
    severity, and the policy stage marks suppressions."""

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
    from_diff: bool = False  # reported by comparing with the baseline (B codes, A302, ...)

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.span.path, self.span.line, self.span.column, self.code, self.message)


def fingerprint(finding: Finding) -> str:
    """A line-independent identity: rule, subject and message with figures blanked.

    Code scanning tracks a finding across edits that move lines by it, and diff mode uses it
    to tell findings the baseline already had from new ones.
    """
    normal = re.sub(r"\d+", "#", " ".join(finding.message.split()))
    digest: str = sha256(f"{finding.code}\0{finding.subject}\0{normal}".encode()).hexdigest()
    return digest[:32]
