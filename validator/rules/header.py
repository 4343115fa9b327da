"""H: cross-checks against the kernel's C UAPI headers (`crosscheck`), beside E111."""

from __future__ import annotations

from validator.catalog import CROSSCHECK, reported_by
from validator.findings import INFO

MISSING_FROM_SPEC = reported_by(
    CROSSCHECK,
    "H901",
    "register-missing-from-spec",
    INFO,
    "a header register the spec does not describe",
    """
    ## What it finds
    A register id macro in the header, in a register family (the id's architecture, size and
    group bits) the spec covers, that no register of the spec has, by name or by id.

    ## Why it matters
    The spec reviews less than the kernel exposes: hazards of the missing register go unseen.

    ## How to fix
    Describe the register (`uapi-validator import` writes a starting point), or leave it out
    knowingly.
    """,
)

MISSING_FROM_HEADER = reported_by(
    CROSSCHECK,
    "H902",
    "register-missing-from-header",
    INFO,
    "a spec register the header does not define",
    """
    ## What it finds
    A spec register with an id in a family the header defines registers for, matched by no
    macro of the header, by name or by value.

    ## Why it matters
    Either the spec describes a register the kernel does not have, or the header builds its
    id another way (with `offsetof`, say) that the spec should cite.

    ## How to fix
    Correct the spec's name or id, or note where the kernel defines it.
    """,
)

RULES = (MISSING_FROM_SPEC, MISSING_FROM_HEADER)
