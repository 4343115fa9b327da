"""Text that reaches a terminal, a CI log, a mail reader or a Markdown renderer: what a spec
wrote is shown, never acted on. No third-party import, so every output path can use it."""

from __future__ import annotations

import re

# Characters a terminal, a CI log or a mail reader would act on rather than show: C0 controls
# but tab and newline (a value never holds a newline: lines are split at LF), DEL, C1, the
# line and paragraph separators, bidirectional overrides ("trojan source") and the BOM.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>#|~&!])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


class Trusted(str):
    """Text the tool made itself (colour codes, its own Markdown): printed as it is."""


def visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return {0x0D: "\\r", 0x0B: "\\v", 0x0C: "\\f"}.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def terminal_safe(value: object) -> str:
    """A value shown in text output: control characters written as escapes (`\\x1b`, `\\r`), so
    a spec cannot clear the screen, set a title, or start a CI workflow command at column 0."""
    if isinstance(value, Trusted):
        return value
    return CONTROL.sub(visible, str(value))


_LINE_BREAKERS = "\r\x0b\x0c\u2028\u2029"


def flatten(value: object) -> str:
    """A value kept on one line: what a reader would break a line at becomes a space, other
    control characters are written as escapes."""
    return CONTROL.sub(lambda m: " " if m.group() in _LINE_BREAKERS else visible(m), str(value))


def markdown_text(value: object) -> str:
    """A value in Markdown: plain text that no renderer reads as markup (no heading, emphasis,
    link, image, HTML or table cell can start inside it, and it cannot break its line)."""
    if isinstance(value, Trusted):
        return value
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(), flatten(value))


def uapi_string(value: object) -> Trusted:
    """A value as a `.uapi` string literal: quoted, `\\` and `"` escaped (the language's only
    escapes), a control character or line break replaced by U+FFFD, so no value can end the
    string or the line and declare something."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return Trusted('"' + CONTROL.sub("\ufffd", text).replace("\n", "\ufffd") + '"')


def uapi_comment(value: object) -> Trusted:
    """A value inside a `.uapi` comment: on one line, whatever it holds."""
    return Trusted(CONTROL.sub(visible, str(value)).replace("\n", "\\n"))
