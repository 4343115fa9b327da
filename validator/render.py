"""Renders view-models with the jinja2 templates (located by `validator.resources`)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from validator.highlight import css as highlight_css
from validator.highlight import highlight_html
from validator.resources import templates_dir

_AUTOESCAPED = (".html.j2", ".html", ".xml.j2", ".svg.j2")


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


def _md_code(text: str) -> str:
    """Text as one Markdown code span: nothing inside is read as markup, and a line break
    cannot end it (the fence is longer than any run of backticks the text holds)."""
    flat = " ".join(str(text).splitlines()) or " "
    runs = [len(run) for run in re.findall(r"`+", flat)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _gh_data(text: str) -> str:
    """Escape a GitHub workflow command's message."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    """Escape a GitHub workflow command's property value."""
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


@cache
def environment(override_dir: str | None = None) -> jinja2.Environment:
    search = [str(templates_dir())] if override_dir is None else [override_dir, str(templates_dir())]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
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
        uapi_html=highlight_html,
    )
    env.globals["highlight_css"] = highlight_css
    return env


class TemplateProblem(Exception):
    """A template (most likely a project's own, from --template-dir) cannot render."""


def render(template: str, view: dict[str, Any], *, template_dir: Path | None = None) -> str:
    env = environment(None if template_dir is None else str(template_dir))
    try:
        return env.get_template(template).render(**view)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"{exc.filename or template}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateProblem(f"{template}: {exc}") from None
