"""D: the directives in comments (`# allow:`) — suppressions must say why and must matter."""

from __future__ import annotations

from collections.abc import Iterator

from validator.catalog import POLICY, RESOLVE, reported_by, rule
from validator.findings import WARNING, Finding
from validator.resolve import ResolvedSpec

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


@rule("D803", "todo-left", WARNING, "a `# todo:` the author has not done yet", stage=RESOLVE)
def todo_left(spec: ResolvedSpec) -> Iterator[Finding]:
    """
    ## What it finds
    A `# todo: ...` comment: something left for the author to fill in. `uapi-validator
    import` writes one on every register for what a C header cannot tell (scope, access
    paths, lifecycle, migration).

    ## Why it matters
    Until the attributes are there, the hazard rules judge a register by defaults: a spec
    with todos reviews less than it seems to.

    ## How to fix
    Fill in what the todo names, then delete the comment.
    """
    for spec_file in spec.files:
        for todo in spec_file.todos:
            yield Finding(
                "D803",
                todo.span,
                f"to do: {todo.text or '(nothing said)'}",
                subject=f"todo/{todo.line}",
                hint="fill it in, then delete the `# todo:` comment",
            )


RULES = (ALLOW_WITHOUT_REASON, UNUSED_ALLOW, todo_left)
