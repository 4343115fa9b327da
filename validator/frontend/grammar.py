"""The LALR parser the frontend runs, fed by the project's scanner.

The parser is lark's standalone form of grammar/uapi.lark (`validator.frontend.lalr_parser`,
written by `validator.frontend.standalone`): the tables are Python literals, so a run neither
analyses the grammar nor reads a cache. lark itself is imported only by
`validator.frontend.standalone`, which writes that file and checks the grammar.
"""

from __future__ import annotations

from typing import Any

from validator.frontend import lalr_parser
from validator.frontend.lexer import LineScanner, WordScanner


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
