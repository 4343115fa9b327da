"""D: the directives in comments (`# allow:`) — suppressions must say why and must matter."""

from __future__ import annotations

from validator.catalog import POLICY, reported_by
from validator.findings import WARNING

ALLOW_WITHOUT_REASON = reported_by(
    POLICY,
    "D801",
    "allow-without-reason",
    WARNING,
    "a `# allow:` that gives no reason",
    """
    ## What it finds
    A suppression comment `# allow: CODE` with no `-- reason` after the codes. It suppresses
    nothing until it says why.

    ## Why it matters
    A suppression is a design decision: the next reviewer (and the review document, which
    lists suppressed findings with their reasons) needs the argument, not just the silence.

    ## How to fix
    Write the reason: `# allow: S201 -- the value is per-VM by design; see <thread>`.
    """,
)

UNUSED_ALLOW = reported_by(
    POLICY,
    "D802",
    "unused-allow",
    WARNING,
    "a `# allow:` that suppresses nothing",
    """
    ## What it finds
    A suppression comment naming a rule that reports nothing on the line it applies to (its
    own line, or the next line of code when the comment stands alone), or naming no rule.

    ## Why it matters
    Stale suppressions hide the next real finding of that rule on the line, and mislead
    readers about what the design trades off.

    ## How to fix
    Remove the suppression, or move it to the declaration the finding is reported on.
    """,
)

RULES = (ALLOW_WITHOUT_REASON, UNUSED_ALLOW)
