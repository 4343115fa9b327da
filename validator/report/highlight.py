"""A Pygments lexer for `.uapi` (registered as the `uapi` lexer), and HTML for quoted lines."""

from __future__ import annotations

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

from validator.frontend.attributes import ORDER

STATEMENTS: tuple[str, ...] = ("api", "version", "include", "lock", "capability", "interface", "register")
STATEMENTS += ("feature", "scenario", "abi", "struct", "union", "flags", "enum", "ioctl")
ATTRIBUTES = tuple(sorted(set().union(*ORDER.values())))
CONSTANTS = (
    "system",
    "vm",
    "vcpu",
    "device",
    "write_once",
    "yes",
    "no",
    "always",
    "never",
    "else",
    "same_value",
    "ok",
    "enforced",
    "as",
    "contract",
    "implementation",
    "last_wins",
    "none",
    "all",
    "reject",
    "ignore",
    "query",
    "vm_create",
    "vcpu_create",
    "vcpu_init",
    "finalize",
    "first_run",
    "memslot_create",
    "restore",
    "hotplug",
    "replug",
    "generic",
    "hint_aware",
    "ioctl",
    "serialized",
    "ioctls",
    "blackout",
    "sysreg",
    "opt_out",
    "bool",
    "count",
    "mask",
    "in",
    "out",
    "inout",
    "on",
    "check",
    "zero",
    "by",
    "new_ioctl",
)


class UapiLexer(RegexLexer):
    """The .uapi design language of uapi-validator."""

    name = "uapi"
    aliases = ("uapi",)
    filenames = ("*.uapi",)
    mimetypes = ("text/x-uapi",)

    tokens = {  # noqa: RUF012 - Pygments' declared class attribute
        "root": [
            (r"[ \t\f]+", Whitespace),
            (r"\n", Whitespace),
            (
                r"(#\s*)(expect|allow|baseline|todo|header)(\s*:)(.*)$",
                bygroups(Comment.Single, Comment.Special, Comment.Single, Comment.Special),
            ),
            (r"#.*$", Comment.Single),
            (r'"(\\\\|\\"|[^"\\\n])*"', String.Double),
            (r"[0-9](_?[0-9])*(ns|us|ms|s)\b", Number.Float),
            (r"0[xX][0-9a-fA-F](_?[0-9a-fA-F])*|0[bB][01](_?[01])*|[0-9](_?[0-9])*", Number.Integer),
            (words(STATEMENTS, suffix=r"\b"), Keyword.Declaration),
            (words(ATTRIBUTES, prefix=r"\b", suffix=r"\b"), Keyword),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (r"E[A-Z0-9]+\b", Name.Exception),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r"[{}(),]", Punctuation),
            (r":", Operator),
            (r".", Text),
        ],
    }


_FORMATTER = HtmlFormatter(nowrap=True)


def highlight_html(line: str) -> Markup:
    """One spec line as HTML spans (Pygments escapes the text)."""
    return Markup(highlight(line, UapiLexer(), _FORMATTER).rstrip("\n"))


def css() -> str:
    """The token colours, for the HTML documents' inline style."""
    return _FORMATTER.get_style_defs(".hl")
