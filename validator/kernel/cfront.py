"""UAPI headers read as a compiler reads them: preprocessed, parsed, laid out per ABI.

Three steps, each done by the tool best at it:
- pcpp preprocesses: `#include` through the given directories only, `#if`/`#ifdef`/`#elif`
  with `defined()`, function-like macros, `##`, `__VA_ARGS__`, with the ABI's predefined
  macros (validator.model.abi).
- pycparser (its C23 dialect, which keeps attributes in the tree) parses the declarations;
  GNU `__attribute__((...))` is rewritten to `[[gnu::...]]` first, and the GNU spellings
  pycparser does not know (`__extension__`, `__signed__`, `__uint128_t`) are mapped.
- This module lays out every struct and union for the ABI (sizes, alignments, offsets,
  bitfields, `packed`, `aligned`) and evaluates integer constant expressions with C's
  semantics: each value has a type, unsigned arithmetic wraps, `sizeof`, `_Alignof`,
  `offsetof` and casts as on the target. Every object-like macro with an integer value is
  evaluated this way, the ioctl numbers (`_IOR(KVMIO, 0x81, struct kvm_regs)`) included.

Nothing in a header is executed, and a header is data: an `#include` that resolves outside
the given directories, a file over the size limit, or an expansion past its budget is a
`HeaderError` (one line, with file:line), never a read elsewhere or a hang.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pcpp import Action, OutputDirective, Preprocessor  # type: ignore[import-untyped]
from pycparser import c_ast, c_parser  # type: ignore[import-untyped]

from validator.kernel.cdecl import FIXED_WIDTH, HeaderError, Layout, Member, Reader
from validator.model.abi import (
    ABIS,
    BOOL,
    CHAR,
    DOUBLE,
    FLOAT,
    INT,
    INT128,
    LONG,
    LONG_DOUBLE,
    LONG_LONG,
    POINTER,
    SHORT,
    Abi,
)
from validator.model.frozen import frozen

MAX_HEADER_BYTES = 4 << 20  # the largest UAPI header is under 200 KiB
MAX_HEADERS = 512  # files one read may open, includes counted
MAX_EXPANSION_TOKENS = 2_000_000  # tokens every macro expansion of one read handles at most
# Macro expansions inside expansions (pcpp expands a macro's arguments forgetting which
# macros it is inside, so macros that call each other through their arguments never end;
# found by fuzzing). The kernel's headers nest a few deep.
MAX_EXPANSION_DEPTH = 100
MAX_INCLUDE_DEPTH = 64


@dataclass
class CHeaders:
    """What a set of headers declares, on one ABI."""

    abi: str
    structs: dict[str, Layout]  # "struct kvm_regs" / "union kvm_mp_state"
    macros: dict[str, int]  # object-like macros with an integer value
    enums: dict[str, int]  # enumerators
    not_integers: tuple[str, ...]  # object-like macros that are not integer constants
    unreadable: dict[str, str]  # structs and unions that cannot be laid out, and why
    files: tuple[str, ...]  # every file read, in order
    locations: dict[str, tuple[str, int]]  # where each macro, enumerator and struct tag ("struct x") is defined
    function_macros: frozenset[str]  # the function-like macros (ARM64_SYS_REG, ...)
    enum_groups: tuple[tuple[str | None, tuple[str, ...]], ...]  # each enum (its tag, or None) and its enumerators
    _evaluator: _Evaluator = field(repr=False)
    _preprocessor: _Preprocessor = field(repr=False)

    def leaves(self, tag: str) -> list[tuple[str, int, int]]:
        """(member path as offsetof takes it, byte offset, size) of every scalar a struct holds,
        arrays element by element (`regs.regs[0]`); reserved `__` members and bitfields left out."""
        node = self._evaluator.tags.get(tag)
        if node is None:
            raise HeaderError(f"{tag} is not defined by the headers")
        return self._evaluator.leaves(node, "", 0)

    def members(self, tag: str) -> list[Member]:
        """The direct members of a struct or union, in order, each with its type as the
        language can say it (`u64`, `ptr`, a struct's name) or why it cannot."""
        node = self._evaluator.tags.get(tag)
        if node is None:
            raise HeaderError(f"{tag} is not defined by the headers")
        return self._evaluator.members(node)

    def definition(self, name: str) -> str:
        """A macro's body as written (`_IOW(KVMIO, 0xaa, struct kvm_dirty_tlb)`), whitespace
        collapsed; empty for a name that is no macro."""
        macro = self._preprocessor.macros.get(name)
        return " ".join("".join(t.value for t in macro.value).split()) if macro is not None else ""

    def where(self, name: str) -> tuple[str, int]:
        """The file and line that define a macro or an enumerator."""
        return self.locations.get(name, ("<headers>", 1))

    def evaluate(self, text: str) -> int:
        """An integer constant expression over the headers' macros, as the compiler would
        evaluate it (`ARM64_SYS_REG(3, 0, 0, 4, 0)`); HeaderError if it is not one."""
        expanded = self._preprocessor.expand_text(text)
        return self._evaluator.expression(expanded)

    def as_json(self) -> dict[str, Any]:
        return {
            "structs": {
                tag: {"size": layout.size, "align": layout.align, "members": dict(layout.members)}
                for tag, layout in sorted(self.structs.items())
            },
            "macros": dict(sorted(self.macros.items())),
            "enums": dict(sorted(self.enums.items())),
        }


def read_c_headers(
    headers: Sequence[str],
    include_dirs: Sequence[str] = (),
    abi: str = "x86_64",
    read: Reader | None = None,
    extra: str = "",
) -> CHeaders:
    """The headers (paths, or `<linux/kvm.h>` names found through `include_dirs`) read as
    the compiler for `abi` would read `#include`s of each, in order; then `extra`, text of
    definitions of its own (a selftest's `#define`s)."""
    if abi not in ABIS:
        raise HeaderError(f"unknown ABI {abi!r} (known: {', '.join(sorted(ABIS))})")
    target = ABIS[abi]
    preprocessor = _Preprocessor(target, include_dirs, headers, read)
    source = "".join(_include_line(h) for h in headers) + extra
    text = preprocessor.run(source)
    defined = preprocessor.header_macros()
    try:
        tree = _parse(_gnu_to_c23(text), "<headers>")
    except HeaderError as exc:
        # pycparser names files as pcpp's #line directives do (relative to the working
        # directory): name them as they were opened.
        message = str(exc)
        for opened in preprocessor.files:
            message = message.replace(os.path.relpath(opened) + ":", opened + ":")
        raise HeaderError(message) from None
    evaluator = _Evaluator(target)
    try:
        evaluator.declare(tree)
    except RecursionError:
        raise HeaderError("declarations nest too deeply") from None
    macros: dict[str, int] = {}
    not_integers = []
    for name in defined:
        try:
            macros[name] = evaluator.expression(preprocessor.expand_text(name))
        except HeaderError:
            not_integers.append(name)
    layouts, unreadable = evaluator.layouts_by_tag()
    return CHeaders(
        abi,
        layouts,
        macros,
        dict(evaluator.enumerators),
        tuple(not_integers),
        unreadable,
        tuple(preprocessor.files),
        {
            **preprocessor.macro_lines(),
            # `#define KVM_DEV_TYPE_XICS KVM_DEV_TYPE_XICS` marks an enumerator: the enumerator's
            # line is where its value is made.
            **{name: (preprocessor.path_of(path), line) for name, (path, line) in evaluator.enumerator_lines.items()},
        },
        frozenset(n for n, macro in preprocessor.macros.items() if macro.arglist is not None),
        tuple((tag, tuple(names)) for tag, names in evaluator.enum_groups if names),
        evaluator,
        preprocessor,
    )


def _include_line(header: str) -> str:
    if header.startswith("<") and header.endswith(">"):
        return f"#include {header}\n"
    return f'#include "{os.path.abspath(header)}"\n'


# -- preprocessing ---------------------------------------------------------------------------


class _Preprocessor(Preprocessor):
    """pcpp, held to the include directories and to a budget, with errors as HeaderError."""

    def __init__(self, abi: Abi, include_dirs: Sequence[str], headers: Sequence[str], read: Reader | None) -> None:
        super().__init__()
        self.line_directive = "#line"  # pycparser reads them: its errors name the header's line
        self.outside: list[str] = []  # includes refused for resolving outside the directories
        self.read = read
        roots = [os.path.abspath(d) for d in include_dirs]
        roots += [os.path.dirname(os.path.abspath(h)) for h in headers if not h.startswith("<")]
        self.roots = tuple(dict.fromkeys(roots))
        for directory in include_dirs:
            self.add_path(os.path.abspath(directory))
        for name, value in abi.defines:
            self.define(f"{name} {value}")
        for name in _ERASED_BY_HEADERS_INSTALL:
            self.define(f"{name} ")
        self.define("__EXPORTED_HEADERS__ 1")  # as the kernel's own header checks compile them
        self.predefined = frozenset(self.macros)
        self.files: list[str] = []
        self.spent = 0
        self.depth = 0

    def run(self, source: str) -> str:
        try:
            self.parse(source, "<command line>")
            out = io.StringIO()
            self.write(out)
        except HeaderError:
            raise
        except RecursionError:
            raise HeaderError("the headers nest too deeply") from None
        except Exception as exc:  # pcpp's own exceptions on malformed input
            raise HeaderError(f"cannot preprocess: {exc}") from None
        return out.getvalue()

    def header_macros(self) -> list[str]:
        """Object-like macros the headers define (not the ABI's predefined ones)."""
        return [
            name
            for name, macro in self.macros.items()
            if macro.arglist is None and name not in self.predefined and not name.startswith("__FILE")
        ]

    def macro_lines(self) -> dict[str, tuple[str, int]]:
        """Where each macro the headers define is defined, by the path it was read from."""
        found = {}
        for name in self.header_macros() + [n for n, mac in self.macros.items() if mac.arglist is not None]:
            macro = self.macros[name]
            found[name] = (self.path_of(str(getattr(macro, "source", "") or "")), int(getattr(macro, "lineno", 1) or 1))
        return found

    def path_of(self, source: str) -> str:
        """A file as pcpp names it (relative to the working directory) as it was opened."""
        absolute = os.path.abspath(source)
        return next((f for f in self.files if os.path.abspath(f) == absolute), source)

    def expand_text(self, text: str) -> str:
        tokens = self.expand_macros(self.tokenize(text))
        return "".join(t.value for t in tokens)

    # pcpp's hooks

    def on_file_open(self, is_system_include: bool, includepath: str) -> Any:
        # Through a reader (a git revision) paths are the working tree's, relative, and no
        # symbolic link is followed; on disk, links are resolved before the check.
        if self.read is not None:
            found, roots = os.path.relpath(includepath), [os.path.relpath(root) for root in self.roots]
        else:
            found, roots = os.path.realpath(includepath), [os.path.realpath(root) for root in self.roots]
        if not any(_inside(found, root) for root in roots):
            # There, but not for us to read (on disk; through a reader nothing outside is asked).
            if self.read is None and os.path.exists(found):
                self.outside.append(includepath)
            raise OSError(f"{includepath}: outside the include directories")  # pcpp tries the next directory
        if len(self.files) >= MAX_HEADERS:
            raise HeaderError(f"{includepath}: more than {MAX_HEADERS} headers")
        if self.include_depth >= MAX_INCLUDE_DEPTH:
            raise HeaderError(f"{includepath}: includes nest deeper than {MAX_INCLUDE_DEPTH}")
        if self.read is not None:
            try:
                data = self.read(found)
            except HeaderError:
                raise
            except Exception as exc:  # not in the revision: pcpp tries the next directory
                raise OSError(includepath) from exc
        elif os.path.isfile(found):
            data = _read_file(found)
        elif (generic := _generic_asm(found)) is not None:
            data = _read_file(generic)
        elif os.path.basename(found) in _REMOVED_BY_HEADERS_INSTALL and self.read is None:
            data = b""
        else:
            raise OSError(includepath)
        if len(data) > MAX_HEADER_BYTES:
            raise HeaderError(f"{includepath}: larger than {MAX_HEADER_BYTES >> 20} MiB")
        text = data.decode("utf-8", errors="replace")
        unterminated = _unterminated_comment(text)
        if unterminated is not None:
            # The compiler's error too; pcpp would take time quadratic in what follows it.
            raise HeaderError(f"{includepath}:{unterminated}: unterminated comment")
        self.files.append(found if self.read is not None else includepath)
        return io.StringIO(text)

    def on_include_not_found(self, is_malformed: bool, is_system_include: bool, curdir: str, includepath: str) -> None:
        where = self._where()
        if is_malformed:
            raise HeaderError(f"{where}malformed #include {includepath}")
        if self.outside:
            raise HeaderError(f"{where}#include {includepath}: resolves outside the include directories; not read")
        raise HeaderError(
            f"{where}#include <{includepath}>: not found; add -I DIR, the directory that holds {includepath}"
        )

    def on_error(self, file: str, line: int, msg: str) -> None:
        raise HeaderError(f"{self.path_of(file)}:{line}: {' '.join(msg.split())}")

    def on_directive_unknown(self, directive: Any, toks: Any, ifpassthru: Any, precedingtoks: Any) -> None:
        if directive.value in ("warning", "pragma", "ident"):
            raise OutputDirective(Action.IgnoreAndRemove)  # nothing a declaration needs
        words = " ".join("".join(t.value for t in toks).split())[:120]
        raise HeaderError(f"{self.path_of(directive.source)}:{directive.lineno}: #{directive.value} {words}".rstrip())

    def on_comment(self, tok: Any) -> bool:
        return False  # comments are dropped

    def expand_macros(self, tokens: Any, expanding_from: Any = []) -> Any:  # noqa: B006 (pcpp's signature)
        self.spent += len(tokens)
        if self.spent > MAX_EXPANSION_TOKENS:
            raise HeaderError(f"macro expansion past {MAX_EXPANSION_TOKENS} tokens: a header built to explode?")
        if self.depth >= MAX_EXPANSION_DEPTH:
            raise HeaderError(f"macro expansion nests deeper than {MAX_EXPANSION_DEPTH}")
        self.depth += 1
        try:
            return super().expand_macros(tokens, expanding_from)
        finally:
            self.depth -= 1

    def _where(self) -> str:
        directive = getattr(self, "lastdirective", None)
        return f"{self.path_of(directive.source)}:{directive.lineno}: " if directive is not None else ""


# A kernel tree's include/uapi is read as `make headers_install` installs it
# (scripts/headers_install.sh): these includes are deleted, and the sparse annotations below
# are erased.
_REMOVED_BY_HEADERS_INSTALL = frozenset({"compiler.h", "compiler_types.h"})
_ERASED_BY_HEADERS_INSTALL = ("__user", "__force", "__iomem", "__rcu", "__kernel", "__bitwise__")


_COMMENT_OR_LITERAL = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|//[^\n]*|/\*""")


def _unterminated_comment(text: str) -> int | None:
    """The line of a `/*` that never closes, if any (in literals and `//` comments, no `/*`
    opens a comment). One pass."""
    position = 0
    while (found := _COMMENT_OR_LITERAL.search(text, position)) is not None:
        position = found.end()
        if found.group() == "/*":
            end = text.find("*/", position)
            if end < 0:
                return text.count("\n", 0, found.start()) + 1
            position = end + 2
    return None


def _generic_asm(path: str) -> str | None:
    """A kernel tree's `include/uapi/asm-generic/NAME` for a missing `asm/NAME`: what Kbuild
    generates for the architectures' `generic-y` headers (arm64 and riscv have no
    asm/types.h of their own until `make headers_install` writes one)."""
    directory, name = os.path.split(path)
    if os.path.basename(directory) != "asm":
        return None
    generic = os.path.join(os.path.dirname(directory), "asm-generic", name)
    return generic if os.path.isfile(generic) else None


def _inside(path: str, root: str) -> bool:
    if root in (".", ""):
        return not (path == ".." or path.startswith(".." + os.sep) or os.path.isabs(path))
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(MAX_HEADER_BYTES + 1)


# -- the GNU spellings pycparser does not read -----------------------------------------------

_C_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(?P<id>[A-Za-z_]\w*)|(?P<num>\.?\d(?:[\w.]|[eEpP][+-])*)|(?P<op>\S)""",
    re.S,
)
_RENAMED = {
    "__extension__": "",
    "__signed__": "signed",
    "__signed": "signed",
    "__inline__": "inline",
    "__inline": "inline",
    "__volatile__": "volatile",
    "__const": "const",
    "__const__": "const",
    "__restrict": "restrict",
    "__restrict__": "restrict",
    "__asm__": "asm",
    "__builtin_offsetof": "offsetof",
    "__alignof__": "_Alignof",
    "__alignof": "_Alignof",
}
# Builtin types, declared so the parser knows the names; the layout reads them by name.
_BUILTIN_TYPEDEFS = "typedef int __uint128_t; typedef int __int128_t; typedef int __builtin_va_list;\n"
BUILTIN_NAMES = {"__uint128_t": INT128, "__int128_t": INT128, "__int128": INT128}


def _gnu_to_c23(text: str) -> str:
    """`__attribute__((a, b(1)))` as `[[gnu::a, gnu::b(1)]]`, moved where C23 puts it: after
    `struct`/`union` for one that follows a closing brace. Other GNU spellings mapped."""
    tokens = [m.group() for m in _C_TOKEN.finditer(text)]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in ("__attribute__", "__attribute"):
            attributes, i = _attribute_list(tokens, i + 1)
            spelled = f" [[{', '.join(attributes)}]] " if attributes else " "
            previous = next((t for t in reversed(out) if t.strip()), "")
            keyword_at = _last_closed(out) if previous == "}" else None
            if keyword_at is not None:
                out.insert(keyword_at + 1, spelled)
            else:
                out.append(spelled)
            continue
        out.append(_RENAMED.get(token, token))
        i += 1
    return _BUILTIN_TYPEDEFS + "".join(out)


def _last_closed(out: list[str]) -> int | None:
    """The index of the `struct`/`union` keyword whose body ends with out's last `}`."""
    depth = 0
    for k in range(len(out) - 1, -1, -1):
        token = out[k]
        if token == "}":
            depth += 1
        elif token == "{":
            depth -= 1
            if depth == 0:
                for j in range(k - 1, max(k - 8, -1), -1):
                    if out[j] in ("struct", "union"):
                        return j
                return None
    return None


def _attribute_list(tokens: list[str], i: int) -> tuple[list[str], int]:
    """The attributes of `((...))` starting at tokens[i] (whitespace skipped), and the index
    after it. Only packed and aligned matter to layouts; the others are dropped."""
    while i < len(tokens) and not tokens[i].strip():
        i += 1
    depth, start, body = 0, i, []
    while i < len(tokens):
        token = tokens[i]
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth == 0:
                i += 1
                break
        body.append(token)
        i += 1
    if depth != 0 or start == i:
        raise HeaderError("unterminated __attribute__")
    words = [token for token in body if token.strip()]
    if words[:2] != ["(", "("]:
        raise HeaderError("__attribute__ without its double parentheses")
    inner = "".join(words[2:-1])  # inside `((` and `)` (the last `)` ended the loop)
    kept = []
    for item in _split_top(inner):
        name, _, arguments = item.strip().partition("(")
        name = name.strip().strip("_")
        if name in ("packed", "aligned"):
            kept.append(f"gnu::{name}" + (f"({arguments}" if arguments else ""))
    return kept, i


def _split_top(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    return [*parts, current] if current.strip() else parts


MAX_NESTING = 200  # brackets open at once; the kernel's headers reach 6
MAX_ARRAY_DIMENSIONS = 32  # of one declarator; the kernel's headers reach 2
_DIMENSION_RUN = re.compile(rf"(?:\[[^\[\]\n]*\]\s*){{{MAX_ARRAY_DIMENSIONS + 1}}}")


def _check_nesting(text: str) -> None:
    """Refuse before parsing what would take the parser superlinear time or deep recursion."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    if deepest > MAX_NESTING:
        raise HeaderError(f"brackets nest {deepest} deep (at most {MAX_NESTING})")
    if _DIMENSION_RUN.search(text):
        raise HeaderError(f"a declarator with more than {MAX_ARRAY_DIMENSIONS} array dimensions")


def _parse(text: str, name: str) -> c_ast.FileAST:
    _check_nesting(text)
    try:
        return c_parser.CParser(dialect="c23").parse(text, name)
    except c_parser.ParseError as exc:
        raise HeaderError(f"{exc}: not a C declaration pycparser reads") from None
    except RecursionError:
        raise HeaderError("declarations nest too deeply") from None


class _ExpressionParser(c_parser.CParser):
    """pycparser for one expression at a time, knowing the headers' typedef names (a cast
    such as `(__u64)1` parses only where `__u64` is known to be a type) without parsing
    their declarations again for every macro."""

    def __init__(self, typedef_names: frozenset[str]) -> None:
        super().__init__(dialect="c23")
        self.typedef_names = typedef_names

    def _is_type_in_scope(self, name: str) -> bool:
        return name in self.typedef_names or bool(super()._is_type_in_scope(name))


# -- types, layouts and constant expressions --------------------------------------------------


@frozen
class _Int:
    """An integer type: its size in bytes and signedness."""

    size: int
    signed: bool

    @property
    def bits(self) -> int:
        return self.size * 8

    def wrap(self, value: int) -> int:
        value &= (1 << self.bits) - 1
        if self.signed and value >> (self.bits - 1):
            value -= 1 << self.bits
        return value


@frozen
class _Value:
    value: int
    type: _Int


class _Evaluator:
    """Declarations of one translation unit: typedefs, tags, enumerators; and from them,
    sizes and alignments on the ABI and the value of integer constant expressions."""

    def __init__(self, abi: Abi) -> None:
        self.abi = abi
        self.typedefs: dict[str, Any] = {}
        self.tags: dict[str, Any] = {}  # "struct x" -> its defining node
        self.tag_order: list[str] = []
        self.enumerators: dict[str, int] = {}
        self.enum_tags: dict[str, Any] = {}  # enum tag -> its enumerator list
        self.enum_groups: list[tuple[str | None, list[str]]] = []  # every enum, tagged or not: its enumerators
        self.enumerator_lines: dict[str, tuple[str, int]] = {}
        self._layouts: dict[int, Layout] = {}
        self._parser = _ExpressionParser(frozenset(BUILTIN_NAMES))

    # declarations

    def declare(self, tree: c_ast.FileAST) -> None:
        for node in tree.ext:
            self._visit(node)
        self._parser = _ExpressionParser(frozenset(self.typedefs) | frozenset(BUILTIN_NAMES))

    def _visit(self, node: Any) -> None:
        if isinstance(node, c_ast.Typedef):
            self.typedefs[node.name] = node.type
            self._tags_in(node.type)
        elif isinstance(node, c_ast.Decl):
            self._tags_in(node.type)
        elif isinstance(node, c_ast.FuncDef):
            self._tags_in(node.decl.type)

    def _tags_in(self, node: Any) -> None:
        """Record struct/union/enum definitions anywhere in a type, nested ones included."""
        if node is None:
            return
        if isinstance(node, (c_ast.Struct, c_ast.Union)):
            if node.decls is not None:
                if node.name:
                    key = f"{'struct' if isinstance(node, c_ast.Struct) else 'union'} {node.name}"
                    if key not in self.tags:
                        self.tag_order.append(key)
                    self.tags[key] = node
                    coord = node.coord
                    # `where("struct kvm_x")`: the line of the definition, as for a macro
                    self.enumerator_lines[key] = (str(coord.file), int(coord.line)) if coord else ("<headers>", 1)
                for member in node.decls:
                    self._tags_in(member.type)
            return
        if isinstance(node, c_ast.Enum):
            if node.values is not None:
                self._enumerate(node)
                if node.name:
                    self.enum_tags[node.name] = node.values
            return
        for _, child in node.children():
            self._tags_in(child)

    def _enumerate(self, node: c_ast.Enum) -> None:
        next_value = 0
        names: list[str] = []
        self.enum_groups.append((node.name, names))
        for enumerator in node.values.enumerators:
            if enumerator.value is not None:
                next_value = self.value(enumerator.value).value
            self.enumerators[enumerator.name] = next_value
            names.append(enumerator.name)
            coord = enumerator.coord
            self.enumerator_lines[enumerator.name] = (str(coord.file), int(coord.line)) if coord else ("<headers>", 1)
            next_value += 1

    def layouts_by_tag(self) -> tuple[dict[str, Layout], dict[str, str]]:
        """Each struct's and union's layout; those that cannot be laid out (an unknown type,
        an array of negative size), with why."""
        layouts, unreadable = {}, {}
        for key in self.tag_order:
            try:
                layouts[key] = self._aggregate(self.tags[key])
            except HeaderError as exc:
                unreadable[key] = str(exc)
        return layouts, unreadable

    # expressions

    def expression(self, text: str) -> int:
        text = text.strip()
        if not text or text.startswith('"'):
            raise HeaderError("not an integer constant expression")
        source = f"int __uapi_value = ({_gnu_spellings(text)});"
        try:
            tree = self._parser.parse(source, "<macro>")
        except (c_parser.ParseError, RecursionError, AssertionError, AttributeError):
            raise HeaderError(f"not an integer constant expression: {text[:60]}") from None
        declaration = tree.ext[-1]
        return self.value(declaration.init).value

    def value(self, node: Any) -> _Value:
        try:
            return self._value(node)
        except RecursionError:
            raise HeaderError("expression nests too deeply") from None

    def _value(self, node: Any) -> _Value:
        if isinstance(node, c_ast.Constant):
            return self._constant(node)
        if isinstance(node, c_ast.ID):
            if node.name in self.enumerators:
                return _Value(self.enumerators[node.name], _Int(4, True))
            raise HeaderError(f"{node.name} is not a constant")
        if isinstance(node, c_ast.Cast):
            kind = self._scalar(node.to_type.type)
            if not isinstance(kind, _Int):
                raise HeaderError("a cast to a non-integer type")
            operand = self._value(node.expr)
            return _Value(kind.wrap(operand.value), kind)
        if isinstance(node, c_ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, c_ast.BinaryOp):
            return self._binary(node.op, self._value(node.left), node.right)
        if isinstance(node, c_ast.TernaryOp):
            condition = self._value(node.cond).value
            left, right = self._value(node.iftrue), self._value(node.iffalse)
            common = self._common(left.type, right.type)
            chosen = left if condition else right
            return _Value(common.wrap(chosen.value), common)
        if isinstance(node, c_ast.FuncCall) and isinstance(node.name, c_ast.ID) and node.name.name == "offsetof":
            return self._offsetof(node.args.exprs)
        if isinstance(node, c_ast.ExprList) and node.exprs:
            return self._value(node.exprs[-1])  # the comma operator
        raise HeaderError(f"not an integer constant: {type(node).__name__}")

    def _constant(self, node: c_ast.Constant) -> _Value:
        text = node.value
        if node.type == "char":
            return _Value(_char_value(text), _Int(4, True))
        if "int" not in node.type:  # pycparser's "int", "unsigned long int", ...; not float or string
            raise HeaderError(f"a {node.type} constant")
        return _integer_constant(text, self.abi)

    def _unary(self, node: c_ast.UnaryOp) -> _Value:
        op = node.op
        if op in ("sizeof", "_Alignof", "alignof"):
            size, align = self._size_align(node.expr)
            return _Value(size if op == "sizeof" else align, self._size_t())
        operand = self._value(node.expr)
        kind = self._promote(operand.type)
        if op == "-":
            return _Value(kind.wrap(-operand.value), kind)
        if op == "+":
            return _Value(kind.wrap(operand.value), kind)
        if op == "~":
            return _Value(kind.wrap(~operand.value), kind)
        if op == "!":
            return _Value(int(not operand.value), _Int(4, True))
        raise HeaderError(f"operator {op} in a constant")

    def _binary(self, op: str, left: _Value, right_node: Any) -> _Value:
        if op == "&&":
            return _Value(int(bool(left.value) and bool(self._value(right_node).value)), _Int(4, True))
        if op == "||":
            return _Value(int(bool(left.value) or bool(self._value(right_node).value)), _Int(4, True))
        right = self._value(right_node)
        if op in ("<<", ">>"):
            kind = self._promote(left.type)
            if not 0 <= right.value < kind.bits:
                raise HeaderError(f"shift by {right.value} of a {kind.bits}-bit value")
            shifted = left.value << right.value if op == "<<" else left.value >> right.value
            return _Value(kind.wrap(shifted), kind)
        kind = self._common(left.type, right.type)
        a, b = kind.wrap(left.value), kind.wrap(right.value)
        if op in ("==", "!=", "<", ">", "<=", ">="):
            truth = {"==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
            return _Value(int(truth), _Int(4, True))
        if op in ("/", "%"):
            if b == 0:
                raise HeaderError("division by zero")
            quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # C truncates
            return _Value(kind.wrap(quotient if op == "/" else a - quotient * b), kind)
        arithmetic = {
            "+": a + b,
            "-": a - b,
            "*": a * b,
            "&": a & b,
            "|": a | b,
            "^": a ^ b,
        }
        if op not in arithmetic:
            raise HeaderError(f"operator {op} in a constant")
        return _Value(kind.wrap(arithmetic[op]), kind)

    def _promote(self, kind: _Int) -> _Int:
        return _Int(4, True) if kind.size < 4 else kind

    def _common(self, left: _Int, right: _Int) -> _Int:
        """The usual arithmetic conversions of two integer types."""
        left, right = self._promote(left), self._promote(right)
        if left == right:
            return left
        if left.signed == right.signed:
            return left if left.size >= right.size else right
        unsigned, signed = (left, right) if not left.signed else (right, left)
        if unsigned.size >= signed.size:
            return unsigned
        return signed  # the signed type is wider: it holds every value of the unsigned one

    def _size_t(self) -> _Int:
        return _Int(self.abi.size(POINTER), False)

    def _offsetof(self, arguments: list[Any]) -> _Value:
        if len(arguments) != 2:
            raise HeaderError("offsetof takes a type and a member")
        typename, designator = arguments
        offset = self._designated(typename.type, designator)
        return _Value(offset, self._size_t())

    def _designated(self, type_node: Any, designator: Any) -> int:
        """The byte offset of `a.b[2].c` within a type."""
        if isinstance(designator, c_ast.ID):
            return self._member(type_node, designator.name)[0]
        if isinstance(designator, c_ast.StructRef):
            offset, member_type = self._member_path(type_node, designator.name)
            return offset + self._member(member_type, designator.field.name)[0]
        if isinstance(designator, c_ast.ArrayRef):
            offset, member_type = self._member_path(type_node, designator.name)
            element = self._resolve(member_type)
            if not isinstance(element, c_ast.ArrayDecl):
                raise HeaderError("subscript of a member that is not an array")
            index = self._value(designator.subscript).value
            return offset + index * self._size_align(element.type)[0]
        raise HeaderError("offsetof of an unsupported designator")

    def _member_path(self, type_node: Any, designator: Any) -> tuple[int, Any]:
        if isinstance(designator, c_ast.ID):
            return self._member(type_node, designator.name)
        if isinstance(designator, c_ast.StructRef):
            offset, member_type = self._member_path(type_node, designator.name)
            inner, inner_type = self._member(member_type, designator.field.name)
            return offset + inner, inner_type
        raise HeaderError("offsetof of an unsupported designator")

    def _member(self, type_node: Any, name: str) -> tuple[int, Any]:
        aggregate = self._aggregate_node(self._resolve(type_node))
        layout = self._aggregate(aggregate)
        found = self._member_types(aggregate).get(name)
        if found is None or name not in layout.members:
            raise HeaderError(f"no member {name}")
        return layout.members[name], found

    def leaves(self, aggregate: Any, prefix: str, base: int) -> list[tuple[str, int, int]]:
        layout = self._aggregate(aggregate)
        found: list[tuple[str, int, int]] = []
        for name, member_type in self._member_types(aggregate).items():
            if name.startswith("__") or name not in layout.members:
                continue
            found += self._leaves_of(member_type, f"{prefix}{name}", base + layout.members[name])
        return found

    def _leaves_of(self, member_type: Any, path: str, offset: int) -> list[tuple[str, int, int]]:
        resolved = self._resolve(member_type)
        if isinstance(resolved, c_ast.ArrayDecl):
            if resolved.dim is None:
                return []
            size = self._size_align(resolved.type)[0]
            count = self._value(resolved.dim).value
            found: list[tuple[str, int, int]] = []
            for index in range(min(count, 4096)):
                found += self._leaves_of(resolved.type, f"{path}[{index}]", offset + index * size)
            return found
        inner = self._aggregate_node(resolved, required=False)
        if inner is not None:
            return self.leaves(inner, f"{path}.", offset)
        return [(path, offset, self._size_align(member_type)[0])]

    def members(self, aggregate: Any) -> list[Member]:
        found: list[Member] = []
        for member in aggregate.decls or ():
            if member.bitsize is not None:
                found.append(Member(member.name or "", "", None, "a bitfield: the language has none"))
                continue
            node, count = member.type, None
            if isinstance(node, c_ast.ArrayDecl):
                count = self._value(node.dim).value if node.dim is not None else 0
                node = node.type
            found.append(Member(member.name or "", *self._type_words(node), count=count))
        return found

    def _type_words(self, node: Any) -> tuple[str, str | None, str]:
        """(the language's type, the struct or union tag it names, why it cannot say it)."""
        if isinstance(node, c_ast.PtrDecl):
            return "ptr", None, ""
        if isinstance(node, c_ast.ArrayDecl):
            return "", None, "an array of arrays"
        inner = node.type if isinstance(node, c_ast.TypeDecl) else node
        while isinstance(inner, c_ast.AttributedType):
            inner = inner.type
        if isinstance(inner, (c_ast.Struct, c_ast.Union)):
            if not inner.name:
                return "", None, "an anonymous struct or union"
            keyword = "union" if isinstance(inner, c_ast.Union) else "struct"
            return inner.name, f"{keyword} {inner.name}", ""
        if isinstance(inner, c_ast.Enum):
            return "", None, "an enum (its size is the compiler's choice)"
        if isinstance(inner, c_ast.IdentifierType):
            if len(inner.names) == 1 and inner.names[0] in FIXED_WIDTH:
                return FIXED_WIDTH[inner.names[0]], None, ""
            resolved = self._resolve(inner)
            if isinstance(resolved, (c_ast.Struct, c_ast.Union)) and resolved.name:
                keyword = "union" if isinstance(resolved, c_ast.Union) else "struct"
                return resolved.name, f"{keyword} {resolved.name}", ""
            kind = self._scalar(inner)
            if isinstance(kind, _Int):
                if kind.size in (1, 2, 4, 8) and self._scalar_kind(self._resolve(inner)) not in (LONG, CHAR):
                    return f"{'s' if kind.signed else 'u'}{kind.size * 8}", None, ""
                if kind.size not in (1, 2, 4, 8):
                    return "", None, f"a {kind.size * 8}-bit integer, which the language has not"
                what = "long (4 or 8 bytes by ABI)" if kind.size in (4, 8) else "char"
                return f"{'s' if kind.signed else 'u'}{kind.size * 8}", None, f"a {what} in the header"
        return "", None, "a type the language cannot say"

    def _member_types(self, aggregate: Any) -> dict[str, Any]:
        types: dict[str, Any] = {}
        for member in aggregate.decls or ():
            if member.name:
                types[member.name] = member.type
            else:
                inner = self._aggregate_node(self._resolve(member.type), required=False)
                if inner is not None:
                    types.update(self._member_types(inner))
        return types

    # sizes and layouts

    def _resolve(self, node: Any) -> Any:
        """A type node with typedef names and attributes looked through, to what it is."""
        for _ in range(256):
            if isinstance(node, (c_ast.Typename, c_ast.AttributedType, c_ast.TypeDecl)):
                node = node.type
            elif (
                isinstance(node, c_ast.IdentifierType)
                and len(node.names) == 1
                and node.names[0] in self.typedefs
                and node.names[0] not in BUILTIN_NAMES
            ):
                node = self.typedefs[node.names[0]]
            else:
                return node
        raise HeaderError("typedefs nest too deeply")

    def _aggregate_node(self, node: Any, required: bool = True) -> Any:
        if isinstance(node, (c_ast.Struct, c_ast.Union)):
            if node.decls is None and node.name:
                key = f"{'struct' if isinstance(node, c_ast.Struct) else 'union'} {node.name}"
                if key in self.tags:
                    return self.tags[key]
                raise HeaderError(f"{key} is not defined")
            return node
        if required:
            raise HeaderError("not a struct or union")
        return None

    def _size_align(self, node: Any) -> tuple[int, int]:
        """sizeof and the alignment (as a struct member) of a type or an expression."""
        if not isinstance(node, _TYPE_NODES):
            size = self._value(node).type.size  # sizeof of an expression: of its type
            return size, size
        explicit = _aligned(node, self.abi)
        resolved = self._resolve(node)
        size, align = self._type_size(resolved)
        return size, max(align, explicit or 0)

    def _type_size(self, node: Any) -> tuple[int, int]:
        if isinstance(node, (c_ast.PtrDecl, c_ast.FuncDecl)):
            return self.abi.size(POINTER), self.abi.align(POINTER)
        if isinstance(node, c_ast.ArrayDecl):
            element_size, element_align = self._size_align(node.type)
            if node.dim is None:
                return 0, element_align  # a flexible array member
            count = self._value(node.dim).value
            if count < 0:
                raise HeaderError("an array of negative size")
            return element_size * count, element_align
        if isinstance(node, (c_ast.Struct, c_ast.Union)):
            layout = self._aggregate(self._aggregate_node(node))
            return layout.size, layout.align
        if isinstance(node, c_ast.Enum):
            return 4, 4
        scalar = self._scalar_kind(node)
        return self.abi.size(scalar), self.abi.align(scalar)

    def _scalar(self, node: Any) -> _Int | str:
        resolved = self._resolve(node)
        if isinstance(resolved, c_ast.PtrDecl):
            return POINTER
        if isinstance(resolved, c_ast.Enum):
            return _Int(4, not self._enum_unsigned(resolved))
        kind = self._scalar_kind(resolved)
        if kind in (FLOAT, DOUBLE, LONG_DOUBLE):
            return kind
        names = set(resolved.names) if isinstance(resolved, c_ast.IdentifierType) else set()
        signed = (
            "unsigned" not in names and kind != BOOL and (kind != CHAR or "signed" in names or self.abi.char_signed)
        )
        if kind == INT128:
            signed = "unsigned" not in names and "__uint128_t" not in names
        return _Int(self.abi.size(kind), signed)

    def _enum_unsigned(self, node: c_ast.Enum) -> bool:
        """gcc gives an enum whose values are all non-negative the type unsigned int."""
        values = node.values if node.values is not None else self.enum_tags.get(node.name or "")
        if values is None:
            raise HeaderError(f"enum {node.name} is not defined")
        return all(self.enumerators.get(e.name, 0) >= 0 for e in values.enumerators)

    def _scalar_kind(self, node: Any) -> str:
        if not isinstance(node, c_ast.IdentifierType):
            raise HeaderError(f"not a scalar type: {type(node).__name__}")
        names = [n for n in node.names if n not in ("signed", "unsigned", "const", "volatile")]
        for name in node.names:
            if name in BUILTIN_NAMES:
                if not self.abi.has_int128:
                    raise HeaderError(f"{name} does not exist on {self.abi.name}")
                return INT128
        if node.names and node.names[0] in self.typedefs and len(node.names) == 1:
            return self._scalar_kind(self._resolve(self.typedefs[node.names[0]]))
        longs = names.count("long")
        if "char" in names:
            return CHAR
        if "short" in names:
            return SHORT
        if "_Bool" in names:
            return BOOL
        if "float" in names:
            return FLOAT
        if "double" in names:
            return LONG_DOUBLE if longs else DOUBLE
        if longs >= 2:
            return LONG_LONG
        if longs == 1:
            return LONG
        if not names or names == ["int"]:
            return INT
        raise HeaderError(f"unknown type {' '.join(node.names)}")

    def _aggregate(self, node: Any) -> Layout:
        cached = self._layouts.get(id(node))
        if cached is not None:
            return cached
        self._layouts[id(node)] = Layout(0, 1, {})  # a struct that contains itself
        try:
            result = self._lay_out(node)
        except HeaderError:
            del self._layouts[id(node)]
            raise
        self._layouts[id(node)] = result
        return result

    def _lay_out(self, node: Any) -> Layout:
        """The SysV layout gcc gives: members in order at their alignment, bitfields packed
        into units of their type without crossing one, the size rounded to the alignment."""
        is_union = isinstance(node, c_ast.Union)
        packed = _has_attribute(node, "packed")
        struct_align = _aligned(node, self.abi) or 1
        members: dict[str, int] = {}
        bit = 0  # the next free bit
        size_bits = 0
        align = 1
        for member in node.decls or ():
            member_type = member.type
            explicit = _aligned(member_type, self.abi) or _aligned(member, self.abi)
            size, natural = self._size_align(member_type)
            member_align = 1 if packed else natural
            if explicit:
                member_align = max(member_align, explicit) if not packed else explicit
            if member.bitsize is not None:
                width = self._value(member.bitsize).value
                unit = size * 8
                if width == 0:  # aligns what follows, packed or not, and counts in the size
                    bit = _round_up(bit, natural * 8)
                    size_bits = max(size_bits, bit)
                    continue
                start = 0 if is_union else bit
                # gcc's rule (PCC_BITFIELD_TYPE_MATTERS): a field that would run past its
                # type's size, counted from its type's alignment boundary, starts at the next
                # boundary (on i386 a long long aligns to 4, so a 40-bit field may straddle).
                if not packed and (start % (natural * 8)) + width > unit:
                    start = _round_up(start, natural * 8)
                if member.name:
                    align = max(align, member_align)
                elif not packed:
                    align = max(align, 1)  # an unnamed bitfield does not align the struct
                end = start + width
                size_bits = max(size_bits, end)
                bit = end if not is_union else bit
                continue
            start = 0 if is_union else _round_up(bit, member_align * 8)
            align = max(align, member_align)
            if member.name:
                members[member.name] = start // 8
            else:
                inner = self._aggregate_node(self._resolve(member_type), required=False)
                if inner is not None:
                    for name, offset in self._aggregate(inner).members.items():
                        members[name] = start // 8 + offset
            end = start + size * 8
            size_bits = max(size_bits, end)
            if not is_union:
                bit = end
        align = max(align, struct_align)
        size = _round_up(_round_up(size_bits, 8) // 8, align)
        return Layout(size, align, members)


_TYPE_NODES = (
    c_ast.Typename,
    c_ast.TypeDecl,
    c_ast.ArrayDecl,
    c_ast.PtrDecl,
    c_ast.FuncDecl,
    c_ast.Struct,
    c_ast.Union,
    c_ast.Enum,
    c_ast.AttributedType,
    c_ast.IdentifierType,
)


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step if step else value


def _attributes(node: Any) -> list[Any]:
    found: list[Any] = []
    for attribute_group in getattr(node, "attributes", None) or ():
        found.extend(getattr(attribute_group, "attributes", None) or ())
    return found


def _has_attribute(node: Any, name: str) -> bool:
    return any(a.name == name for a in _attributes(node))


def _aligned(node: Any, abi: Abi) -> int | None:
    """The `aligned` attribute on a node or on the type nodes it wraps, if any."""
    best = None
    for _ in range(8):
        for attribute in _attributes(node):
            if attribute.name == "aligned":
                value = abi.max_align if not attribute.arguments else _small_int(attribute.arguments)
                best = max(best or 0, value)
        # The declaration's own nodes only: an aligned typedef is the type's alignment,
        # which `packed` overrides, while one on the member's declaration survives it.
        if isinstance(
            node, (c_ast.TypeDecl, c_ast.Typename, c_ast.AttributedType, c_ast.Decl, c_ast.ArrayDecl, c_ast.PtrDecl)
        ):
            node = node.type
        else:
            break
    return best


def _small_int(text: str) -> int:
    try:
        return int(text.strip().strip("()"), 0)
    except ValueError:
        raise HeaderError(f"aligned({text}): not a number") from None


def _gnu_spellings(text: str) -> str:
    return "".join(_RENAMED.get(m.group(), m.group()) for m in _C_TOKEN.finditer(text))


_SUFFIX = re.compile(r"([uUlL]*)$")


def _integer_constant(text: str, abi: Abi) -> _Value:
    """A C integer literal with the type C gives it (C11 6.4.4.1)."""
    suffix = _SUFFIX.search(text).group(1).lower()  # type: ignore[union-attr]
    digits = text[: len(text) - len(suffix)] if suffix else text
    if len(digits) > 40:
        raise HeaderError("an integer literal too long")
    try:
        if digits[:2].lower() == "0x":
            value, decimal = int(digits, 16), False
        elif digits[:2].lower() == "0b":
            value, decimal = int(digits, 2), False
        elif digits.startswith("0") and len(digits) > 1:
            value, decimal = int(digits, 8), False
        else:
            value, decimal = int(digits), True
    except ValueError:
        raise HeaderError(f"{text}: not an integer literal") from None
    unsigned = "u" in suffix
    longs = suffix.count("l")
    ladder = [INT, LONG, LONG_LONG][min(longs, 2) :] if longs < 2 else [LONG_LONG]
    for kind in ladder:
        size = abi.size(kind)
        signed_fits = value < 1 << (size * 8 - 1)
        if not unsigned and signed_fits:
            return _Value(value, _Int(size, True))
        if (unsigned or not decimal) and value < 1 << (size * 8):
            return _Value(value, _Int(size, False))
    raise HeaderError(f"{text}: too large for any integer type")


def _char_value(text: str) -> int:
    body = text[1:-1]
    escapes = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7, "b": 8, "f": 12, "v": 11}
    if body.startswith("\\") and len(body) == 2 and body[1] in escapes:
        return escapes[body[1]]
    if body.startswith("\\x"):
        return int(body[2:], 16)
    if body.startswith("\\") and body[1:].isdigit():
        return int(body[1:], 8)
    if len(body) == 1:
        return ord(body)
    raise HeaderError(f"character constant {text}")
