"""Model values in the language's own words: what diff mode compares and what messages quote."""

from __future__ import annotations

from validator.model import spec as m


def describe(value: object) -> str:
    """An attribute value as the language writes it: words and numbers, never a position.

    Anything this does not know is a programming error, not a string to compare: a repr
    would carry source spans into the comparison.
    """
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return hex(value) if value > 255 else str(value)
    if isinstance(value, str):
        return value
    if type(value) is tuple:  # a plain tuple of values: a Span is a (named) tuple too, never a value
        return ", ".join(describe(v) for v in value) or "(none)"
    if isinstance(value, m.Name):
        return value.text
    if isinstance(value, m.Writable):
        if value.kind != "before":
            return value.kind
        return f"before {value.event}" + (f" else {value.errno.text}" if value.errno else "")
    if isinstance(value, m.Rewrite):
        return f"same_value {value.errno.text if value.errno else 'ok'}"
    if isinstance(value, m.Uniform):
        if value.kind == "enforced":
            return f"enforced {describe(value.errno)} as {value.basis}"
        return value.kind + (f" opt_in {value.opt_in.text}" if value.opt_in else "")
    if isinstance(value, m.Reset):
        return describe(value.value) if value.kind == "value" else value.kind
    if isinstance(value, m.Reserved):
        return "ignore" if value.kind == "ignore" else f"reject {describe(value.errno)}"
    if isinstance(value, m.FieldType):
        return value.name.text + (f"[{value.count}]" if value.count is not None else "")
    if isinstance(value, m.Field):
        words = [value.kind, value.name.text, describe(value.type)]
        if value.direction:
            words.append(value.direction)
        if value.written_on:
            words += ["on", ", ".join(name.text for name in value.written_on)]
        if value.check == "zero":
            words += ["check zero", describe(value.errno)]
        elif value.check:
            words.append(value.check)
        return " ".join(words)
    if isinstance(value, m.Bit):
        return f"{value.index} {value.name}" + (f' since "{value.since}"' if value.since else "")
    raise TypeError(f"no language form for {type(value).__name__}")
