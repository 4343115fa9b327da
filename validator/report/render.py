"""Renders view-models with the jinja2 templates (located by `validator.frontend.bundled`)."""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from validator.frontend.bundled import templates_dir
from validator.report.highlight import css as highlight_css
from validator.report.highlight import highlight_html
from validator.report.output import TemplateProblem
from validator.report.textsafe import (
    CONTROL,
    Trusted,
    flatten,
    markdown_text,
    terminal_safe,
    uapi_comment,
    uapi_string,
    visible,
)

_AUTOESCAPED = (".html.j2", ".html", ".xml.j2", ".svg.j2")
_MARKDOWN = (".md.j2",)


def _html_safe(value: object) -> object:
    """Control characters shown escaped in HTML too (a raw ESC acts in a terminal that shows
    the file, and most C0 characters are not allowed in HTML at all); autoescape does the rest."""
    if isinstance(value, Markup):
        return Markup(CONTROL.sub(visible, str(value)))
    return CONTROL.sub(visible, value) if isinstance(value, str) else value


def _autoescape(name: str | None) -> bool:
    # select_autoescape(["html"]) would miss "report.html.j2": decide by the full suffix.
    return bool(name and name.endswith(_AUTOESCAPED))


def _duration(ns: int) -> str:
    """Nanoseconds in the largest unit that keeps a digit before the point."""
    for unit, scale in (("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns % scale else f"{ns // scale} {unit}"
    return f"{ns} ns"


def _inline_code(text: str) -> Markup:
    """Escape text, then show `spans` as code (rule documentation uses backticks)."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def _md_code(text: object, cell: bool = False) -> Trusted:
    """Text as one Markdown code span: nothing inside is read as markup, and a line break
    cannot end it (the fence is longer than any run of backticks the text holds). In a table
    `cell`, a pipe is escaped, which GFM requires even inside a code span."""
    flat = flatten(text).replace("\n", " ") or " "
    runs = [len(run) for run in re.findall(r"`+", flat)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    span = f"{fence}{pad}{flat}{pad}{fence}"
    return Trusted(span.replace("|", "\\|") if cell else span)


def _md_fenced(text: object) -> Trusted:
    """A line inside a ``` block: shown as it is, except what could end the block or the line."""
    return Trusted(flatten(text).replace("```", "`\u200b``"))


def _gh_data(text: str) -> str:
    """Escape a GitHub workflow command's message."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    """Escape a GitHub workflow command's property value."""
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


@cache
def environment(override_dir: str | None = None, kind: str = "text") -> jinja2.Environment:
    """The environment of one kind of output: `text` (terminal-safe values), `markdown`
    (values escaped for Markdown) or `html` (autoescaped)."""
    search = [str(templates_dir())] if override_dir is None else [override_dir, str(templates_dir())]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape if kind == "html" else False,
        finalize={"text": terminal_safe, "markdown": markdown_text, "html": _html_safe}[kind],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        gh_data=_gh_data,
        gh_property=_gh_property,
        duration=_duration,
        inline_code=_inline_code,
        md_code=_md_code,
        md_fenced=_md_fenced,
        md_trusted=Trusted,
        uapi_string=uapi_string,
        uapi_comment=uapi_comment,
        uapi_html=highlight_html,
        log2=lambda n: math.log2(max(n, 1)),
    )
    env.globals["highlight_css"] = highlight_css
    return env


def render(template: str, view: dict[str, Any], *, template_dir: Path | None = None) -> str:
    kind = "html" if template.endswith(_AUTOESCAPED) else "markdown" if template.endswith(_MARKDOWN) else "text"
    env = environment(None if template_dir is None else str(template_dir), kind)
    try:
        return env.get_template(template).render(**view)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"{exc.filename or template}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateProblem(f"{template}: {exc}") from None
    except Exception as exc:
        if template_dir is None:
            raise  # our own template failing is our bug
        raise TemplateProblem(f"{template}: the template failed: {type(exc).__name__}: {exc}") from None
