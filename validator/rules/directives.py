"""D: the directives in comments (`# allow:`) — suppressions must say why and must matter."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from validator.frontend.resolve import ResolvedSpec
from validator.model.findings import WARNING, Problem
from validator.model.frozen import frozen
from validator.model.spec import Allow
from validator.rules.catalog import POLICY, RESOLVE, rule


@frozen
class Suppressions:
    """What the POLICY-stage rules judge: every `# allow:` of the files, and which of its
    codes suppressed a finding (policy decides that; these rules judge the comments)."""

    allows: tuple[Allow, ...]
    used: frozenset[tuple[Allow, str]]  # (allow, rule code) pairs that suppressed something
    # The rule code each code or name written in an allow stands for; None: no rule's.
    names: Mapping[str, str | None]


@rule("D801", "allow-without-reason", WARNING, "a `# allow:` that gives no reason", stage=POLICY)
def allow_without_reason(suppressions: Suppressions) -> Iterator[Problem]:
    """
    ## What it finds
    A suppression comment `# allow: CODE` with no `-- reason` after the codes. It suppresses
    nothing until it says why.

    ## Why it matters
    A suppression is a design decision: the next reviewer (and the review document, which
    lists suppressed findings with their reasons) needs the argument, not just the silence.

    ## How to fix
    Write the reason: `# allow: S201 -- the value is per-VM by design; see <thread>`.
    """
    for allow in suppressions.allows:
        if not allow.reason:
            yield Problem(
                allow.span,
                f"`# allow: {', '.join(allow.codes)}` gives no reason",
                hint="write the reason after `--`: `# allow: S201 -- why this is acceptable`",
            )


@rule("D802", "unused-allow", WARNING, "a `# allow:` that suppresses nothing", stage=POLICY)
def unused_allow(suppressions: Suppressions) -> Iterator[Problem]:
    """
    ## What it finds
    A suppression comment naming a rule that reports nothing on the line it applies to (its
    own line, or the next line of code when the comment stands alone), or naming no rule.

    ## Why it matters
    Stale suppressions hide the next real finding of that rule on the line, and mislead
    readers about what the design trades off.

    ## How to fix
    Remove the suppression, or move it to the declaration the finding is reported on.
    """
    for allow in suppressions.allows:
        if not allow.reason:
            continue  # D801's: a suppression without a reason suppresses nothing yet
        for code in allow.codes:
            named = suppressions.names.get(code)
            if named is None:
                yield Problem(allow.span, f"`# allow:` names {code}, which is no rule code or name")
            elif (allow, named) not in suppressions.used:
                yield Problem(
                    allow.span,
                    f"`# allow: {code}` suppresses nothing on line {allow.target_line}",
                    hint="remove it: the finding it was written for is gone",
                )


@rule("D803", "todo-left", WARNING, "a `# todo:` the author has not done yet", stage=RESOLVE)
def todo_left(spec: ResolvedSpec) -> Iterator[Problem]:
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
            yield Problem(
                todo.span,
                f"to do: {todo.text or '(nothing said)'}",
                subject=f"todo/{todo.line}",
                hint="fill it in, then delete the `# todo:` comment",
            )


RULES = (allow_without_reason, unused_allow, todo_left)
