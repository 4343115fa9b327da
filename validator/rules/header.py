"""H: cross-checks against the kernel's C UAPI headers (`crosscheck`), beside E111."""

from __future__ import annotations

from collections.abc import Iterator

from validator.kernel.crosscheck import HeaderCheck, family, where
from validator.model.findings import INFO, Problem, Related
from validator.rules.catalog import CROSSCHECK, rule


@rule("H901", "register-missing-from-spec", INFO, "a header register the spec does not describe", stage=CROSSCHECK)
def register_missing_from_spec(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    A register id macro in the header, in a register family (the id's architecture, size and
    group bits) the spec covers, that no register of the spec has, by name or by id.

    ## Why it matters
    The spec reviews less than the kernel exposes: hazards of the missing register go unseen.

    ## How to fix
    Describe the register (`uapi-validator import` writes a starting point), or leave it out
    knowingly.
    """
    # H901 has no line of the spec to stand on: the `# header:` line that named the header,
    # else the api statement.
    for name, (value, macro) in sorted(check.header.by_name.items(), key=lambda item: item[1][0]):
        if name in check.names or value in check.spec_ids or family(value) not in check.spec_families:
            continue
        yield Problem(
            check.anchor,
            f"the header defines {name} (0x{value:x}) in a register family this spec covers, but the spec does not "
            "describe it",
            subject=f"header/{name}",
            hint="describe it (`uapi-validator import` writes a start), or leave it out knowingly",
            related=(Related(where(macro), f"#define {name}"),),
        )


@rule("H902", "register-missing-from-header", INFO, "a spec register the header does not define", stage=CROSSCHECK)
def register_missing_from_header(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    A spec register with an id in a family the header defines registers for, matched by no
    macro of the header, by name or by value.

    ## Why it matters
    Either the spec describes a register the kernel does not have, or the header builds its
    id another way (with `offsetof`, say) that the spec should cite.

    ## How to fix
    Correct the spec's name or id, or note where the kernel defines it.
    """
    for register in check.registers:
        register_id = register.id
        if register_id is None or register.name in check.header.by_name:
            continue
        if register_id not in check.header_ids and family(register_id) in check.header_families:
            yield Problem(
                register.span,
                f"{register.name} (0x{register_id:x}) is in a register family the header defines, but no header "
                "macro has its name or its id",
                subject=f"register/{register.name}",
                hint="correct the name or id, or cite where the kernel defines it",
            )


RULES = (register_missing_from_spec, register_missing_from_header)
