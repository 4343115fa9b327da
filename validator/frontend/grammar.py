"""The grammar (located by `validator.frontend.bundled`) as the LALR parser the frontend runs.

The parser is lark's standalone form of grammar/uapi.lark (`validator.frontend.lalr_parser`,
written by `validator.frontend.standalone`): the tables are Python literals, so a run neither
analyses the grammar nor reads a cache. lark itself is imported only to check the grammar
(`strict_lark_parser`, in the tests) and to write the standalone file.
"""

from __future__ import annotations

from typing import Any

from validator.frontend import lalr_parser
from validator.frontend.bundled import grammar_file
from validator.frontend.lexer import LineScanner, WordScanner
from validator.frontend.standalone import LARK_OPTIONS


def grammar_text() -> str:
    return grammar_file().read_text(encoding="utf-8")


def build_lark_parser(*, line_shortcuts: bool = True) -> lalr_parser.Lark:
    """The LALR parser, fed by the project's scanner; it gives a lark tree, which
    `validator.frontend.build.SpecBuilder` turns into the model.

    `line_shortcuts=False` scans every line word by word (see validator.frontend.lexer).
    """
    scanner = LineScanner if line_shortcuts else WordScanner
    data: dict[str, Any] = dict(lalr_parser.DATA)
    frontend: dict[str, Any] = dict(data["parser"])
    frontend["lexer_conf"] = {**frontend["lexer_conf"], "lexer_type": scanner}
    data["parser"] = frontend
    data["options"] = {**data["options"], "lexer": scanner}
    return lalr_parser.Lark._load_from_dict(data, lalr_parser.MEMO)


def strict_lark_parser() -> Any:
    """The grammar compiled by lark in strict mode: a shift/reduce conflict or two terminals
    that can match the same text raise (the tests run it)."""
    import lark

    return lark.Lark(grammar_text(), strict=True, **LARK_OPTIONS)
