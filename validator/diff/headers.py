"""The C headers a spec names with `# header:` that changed from baseline to proposal.

A header is compared as the compiler's tokens see it: comments and the layout of white space
do not count, so a reworded comment is no change, while a new macro, a field or a changed
value is. H909 reads the result: a header that changed under a spec that did not.
"""

from __future__ import annotations

import re

from validator.frontend.load import Unit
from validator.model.frozen import frozen
from validator.model.spans import Span

# A comment, or a string or character literal (kept whole, so a `/*` inside one is text).
_COMMENT_OR_LITERAL = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


@frozen
class ChangedHeader:
    """A `# header:` file whose tokens differ from the baseline's."""

    written: str  # as the proposal's `# header:` line writes it
    span: Span  # that line


def header_tokens(data: bytes) -> tuple[str, ...]:
    """The header's text without comments, split at white space (line continuations joined;
    a string literal is one token, its spaces kept)."""
    text = data.decode("utf-8", errors="replace").replace("\\\n", " ")
    tokens: list[str] = []
    at = 0
    for found in _COMMENT_OR_LITERAL.finditer(text):
        tokens += text[at : found.start()].split()
        if found.group(0)[0] != "/":
            tokens.append(found.group(0))
        at = found.end()
    return (*tokens, *text[at:].split())


def changed_headers(
    baseline: Unit, proposal: Unit, baseline_paths: list[str], proposal_paths: list[str]
) -> tuple[ChangedHeader, ...]:
    """The proposal's `# header:` files whose tokens differ from the baseline's header of the
    same place: the same written path, else the same position among the directives (a
    baseline file elsewhere names its own copy). `*_paths` are the directives' files as
    resolved for each unit, in the order written."""
    if not baseline.files or not proposal.files:
        return ()
    base_directives = baseline.files[0].headers
    base_by_written = {d.path: path for d, path in zip(base_directives, baseline_paths, strict=False)}
    changed = []
    for index, (directive, path) in enumerate(zip(proposal.files[0].headers, proposal_paths, strict=False)):
        before = base_by_written.get(directive.path)
        if before is None and index < len(baseline_paths):
            before = baseline_paths[index]
        if before is None:
            continue
        old, new = _tokens(baseline, before), _tokens(proposal, path)
        if old is not None and new is not None and old != new:
            changed.append(ChangedHeader(directive.path, directive.span))
    return tuple(changed)


def _tokens(unit: Unit, path: str) -> tuple[str, ...] | None:
    try:
        return header_tokens(unit.source.read_bytes(path))
    except OSError:
        return None  # unreadable: E113's to report
