"""Small facts the hazard rules share: wording, reference figures, version tests."""

from __future__ import annotations

from collections.abc import Iterable

from validator.frontend.resolve import ResolvedSpec
from validator.model import spec as m

REFERENCE_VCPUS = 512  # the figure messages quote when the spec runs no scenario


def reference_vcpus(spec: ResolvedSpec) -> int:
    """The largest vCPU count any scenario of the spec runs, else 512."""
    counts = [n for s in spec.scenarios.values() for n in s.vcpus]
    return max(counts, default=REFERENCE_VCPUS)


def is_new(spec: ResolvedSpec, since: str | None) -> bool:
    """Introduced by the API version under review."""
    return since is not None and spec.api is not None and since == spec.api.version


def predates(older: str | None, newer: str | None) -> bool:
    if older is None or newer is None:
        return False
    return m.version_key(older) < m.version_key(newer)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """The suggestion for a misspelt name, or "" where none is close."""
    import difflib  # here: only a misspelt name needs it

    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f"did you mean {close[0]}?" if close else ""


def names(items: list[str]) -> str:
    return ", ".join(items)


def subject(decl: m.Declaration) -> str:
    kind = type(decl).__name__.lower()
    return f"{kind}/{decl.name}"
