"""Highlighting: the Pygments lexer (entry point) and the TextMate grammar in editors/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT, run_cli
from validator.report.highlight import UapiLexer, highlight_html

VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = json.loads((VSCODE / "syntaxes" / "uapi.tmLanguage.json").read_text())
SPECS = sorted((ROOT / "spec").rglob("*.uapi")) + (sorted(EXAMPLES.glob("*.uapi")) if EXAMPLES.is_dir() else [])


def textmate_scopes(line: str) -> list[tuple[str, str]]:
    """(text, scope) pairs, by the grammar's own regexes, first match at each position wins."""
    rules = [GRAMMAR["repository"][p["include"][1:]] for p in GRAMMAR["patterns"]]
    flat = [r for rule in rules for r in rule.get("patterns", [rule])]
    out, pos = [], 0
    while pos < len(line):
        for rule in flat:
            found = re.compile(rule["match"]).match(line, pos)
            if found and found.end() > pos:
                captures = rule.get("captures")
                if captures:
                    out += [(found.group(int(k)), v["name"]) for k, v in captures.items() if found.group(int(k))]
                else:
                    out.append((found.group(), rule["name"]))
                pos = found.end()
                break
        else:
            pos += 1
    return out


def test_textmate_grammar_tokenises_the_examples_keywords() -> None:
    scopes: dict[str, set[str]] = {}
    for path in SPECS:
        for line in path.read_text().splitlines():
            for text, scope in textmate_scopes(line):
                scopes.setdefault(text.strip(), set()).add(scope)
    assert "storage.type.declaration.uapi" in scopes["register"]
    assert "keyword.other.attribute.uapi" in scopes["writable"]
    assert "constant.language.uapi" in scopes["first_run"]
    assert "constant.other.errno.uapi" in scopes["EBUSY"]
    assert "keyword.other.directive.uapi" in scopes["expect"]
    assert "string.quoted.double.uapi" in scopes['"5.19"']
    assert "constant.numeric.duration.uapi" in scopes["2us"]


def test_every_textmate_regex_compiles() -> None:
    for rule in GRAMMAR["repository"].values():
        for r in rule.get("patterns", [rule]):
            re.compile(r["match"])
    assert GRAMMAR["scopeName"] == "source.uapi" and GRAMMAR["fileTypes"] == ["uapi"]


@pytest.mark.parametrize("path", SPECS[:5] + SPECS[-7:], ids=lambda p: p.name)
def test_pygments_lexer_covers_every_character(path) -> None:
    text = path.read_text()
    tokens = list(UapiLexer().get_tokens(text))
    assert "".join(value for _, value in tokens) == text if text.endswith("\n") else text + "\n"
    assert not [value for kind, value in tokens if str(kind) == "Token.Error"]


def test_pygments_finds_the_lexer_through_its_entry_point() -> None:
    from pygments.lexers import get_lexer_by_name, get_lexer_for_filename

    assert isinstance(get_lexer_by_name("uapi"), UapiLexer)
    assert isinstance(get_lexer_for_filename("kvm.uapi"), UapiLexer)


def test_highlighting_escapes_and_marks_keywords() -> None:
    html = highlight_html('register R {  doc "<script>" # expect: S201')
    assert '<span class="kd">register</span>' in html and "&lt;script&gt;" in html and "<script>" not in html


def test_highlighting_appears_in_the_html_review() -> None:
    html = run_cli("review", str(ROOT / "spec/kvm/arm64/firmware.uapi"), "--format", "html").stdout
    assert '<pre class="hl">' in html and '<span class="kd">register</span>' in html
    assert ".hl .kd" in html  # the token colours are inline


def test_textmate_grammar_scopes_every_attribute_keyword() -> None:
    from validator.frontend.attributes import ORDER

    keywords = {k for table in ORDER.values() for k in table} - {"bit"}  # a flags bit is a number
    unscoped = sorted(
        k for k in keywords if ("keyword.other.attribute.uapi" not in {s for _, s in textmate_scopes(f"  {k} x")})
    )
    assert unscoped == []


def test_textmate_grammar_scopes_the_words_inside_lines_and_tells_a_lock_reference_from_its_declaration() -> None:
    assert ("since", "keyword.other.uapi") in textmate_scopes('    0 TRNG_V1_0 since "5.13"')
    assert ("version", "keyword.other.uapi") in textmate_scopes('api "kvm/arm64" version "5.18"')
    assert ("before", "keyword.other.uapi") in textmate_scopes("  writable before first_run else EBUSY")
    declared = textmate_scopes('lock config_lock : vm "kvm->arch.config_lock"')
    assert declared[:2] == [("lock", "storage.type.declaration.uapi"), ("config_lock", "entity.name.type.uapi")]
    assert [(t.strip(), s) for t, s in textmate_scopes("  lock config_lock")] == [
        ("lock", "keyword.other.attribute.uapi")
    ]
    assert ("config_lock", "entity.name.type.uapi") not in textmate_scopes("  lock config_lock")


def test_the_vscode_extension_folder_declares_the_language_and_its_grammar() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text())
    [language] = manifest["contributes"]["languages"]
    [grammar] = manifest["contributes"]["grammars"]
    assert language["id"] == grammar["language"] == "uapi" and language["extensions"] == [".uapi"]
    assert grammar["scopeName"] == GRAMMAR["scopeName"] and (VSCODE / grammar["path"]).resolve().is_file()
    configuration = json.loads((VSCODE / language["configuration"]).read_text())
    assert configuration["comments"] == {"lineComment": "#"}
    # The indentation rules agree with fmt: a block opens on `{` (a comment may follow) and
    # closes on a line of its own.
    assert re.search(configuration["indentationRules"]["increaseIndentPattern"], "register R {  # expect: S201")
    assert re.match(configuration["indentationRules"]["decreaseIndentPattern"], "  }")
    for key in ("name", "publisher", "version", "engines"):
        assert manifest[key]


NVIM = shutil.which("nvim")


@pytest.mark.skipif(NVIM is None, reason="Neovim is not installed (.ci/run installs Debian's 0.7.2)")
def test_neovim_with_the_readme_snippet_shows_diagnostics_at_the_right_column(tmp_path) -> None:
    words = subprocess.run([NVIM, "--version"], capture_output=True, text=True).stdout.split()[1]
    version = tuple(int(n) for n in re.findall(r"\d+", words)[:2])
    snippet = VSCODE.parent / "neovim" / ("uapi.lua" if version >= (0, 10) else "uapi-0.7.lua")
    spec = tmp_path / "e.uapi"
    spec.write_text('api "kvm/x86" version "6.1"\nlock l : vm "😀 é" junk\n')
    probe = tmp_path / "probe.lua"
    probe.write_text(
        "vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 100)\n"
        "local out = {}\n"
        "for _, d in ipairs(vim.diagnostic.get(0)) do\n"
        '  table.insert(out, string.format("%d:%d:%s", d.lnum, d.col, tostring(d.code)))\n'
        "end\n"
        f'vim.fn.writefile(out, "{tmp_path / "result.txt"}")\n'
        'vim.cmd("qa!")\n'
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        [NVIM, "--headless", "-u", str(snippet), str(spec), "-c", f"luafile {probe}"],
        cwd=tmp_path,
        env=env,
        timeout=60,
        capture_output=True,
    )
    line = spec.read_text().splitlines()[1]
    byte_column = len(line[: line.index("junk")].encode())  # Neovim's columns are bytes
    assert (tmp_path / "result.txt").read_text().split() == [f"1:{byte_column}:E101"]
