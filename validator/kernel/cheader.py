"""Reading C UAPI headers without a compiler: `#define` macros and integer expressions.

Enough of the C preprocessor to evaluate register ids the way the kernel's headers build
them: object-like and function-like macros (with `##` pasting and `__VA_ARGS__`), integer
literals with U/L suffixes, casts such as `(__u64)`, and the operators | & ^ << >> + - * / %
~ and parentheses. Nothing is executed: expressions are evaluated by a small parser over
integers. A line that cannot be read is skipped and counted, never fatal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from validator.frontend import textfile

_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)(\(([^)]*)\))?\s*(.*)$")
_TOKEN = re.compile(r"\s*(0[xX][0-9a-fA-F]+|\d+)[uUlL]*|\s*([A-Za-z_]\w*)|\s*(<<|>>|##|[-+*/%&|^~(),])")
_TYPES = {
    "__u8",
    "__u16",
    "__u32",
    "__u64",
    "__s8",
    "__s16",
    "__s32",
    "__s64",
    "u8",
    "u16",
    "u32",
    "u64",
    "int",
    "long",
    "unsigned",
    "signed",
    "short",
    "char",
}
_BINARY = {"|": 1, "^": 2, "&": 3, "<<": 4, ">>": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
MASK64 = (1 << 64) - 1
MAX_EXPANSION = 10_000  # tokens; a macro that expands past this is unreadable, not a hang
MAX_EXPANSION_STEPS = 200_000  # tokens handled in all the expansions of one expression
MAX_LITERAL_DIGITS = 40  # no 64-bit literal is longer


class Unreadable(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Macro:
    name: str
    params: tuple[str, ...] | None  # None: object-like
    body: str
    path: str
    line: int


@dataclass
class Header:
    """The macros of a set of headers."""

    macros: dict[str, Macro] = field(default_factory=dict)

    def value(self, name: str) -> int | None:
        macro = self.macros.get(name)
        if macro is None or macro.params is not None:
            return None
        try:
            return evaluate(self, macro.body)
        except (Unreadable, RecursionError, ZeroDivisionError):
            return None


def read_headers(paths: list[str], read: Callable[[str], bytes] | None = None) -> Header:
    """The macros of the headers, read from disk or through `read` (a git revision's files)."""
    header = Header()
    for path in paths:
        data = read(path) if read is not None else textfile.read_bytes(path)
        lines = _logical_lines(data.decode("utf-8", errors="replace"))
        for number, line in lines:
            if not line.lstrip().startswith("#"):
                continue
            found = _DEFINE.match(line)
            if found is None:
                continue  # #include, #ifdef, ...: not a definition
            name, has_params, params, body = found.groups()
            if body.strip() == "" and not has_params:
                continue  # include guards
            names = tuple(p.strip() for p in params.split(",") if p.strip()) if has_params else None
            header.macros[name] = Macro(name, names, _strip_comments(body).strip(), path, number)
    return header


def _without_block_comments(text: str) -> str:
    """Block comments replaced by their newlines; an unterminated one runs to the end. One
    pass: a regex retried at every `/*` of a file that never closes one is quadratic."""
    out, pos = [], 0
    while (start := text.find("/*", pos)) != -1:
        end = text.find("*/", start + 2)
        out.append(text[pos:start])
        if end == -1:
            out.append("\n" * text.count("\n", start))
            return "".join(out)
        out.append("\n" * text.count("\n", start, end))
        pos = end + 2
    out.append(text[pos:])
    return "".join(out)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, and block comments removed."""
    text = _without_block_comments(text)
    out, pending, start = [], "", 0
    for number, line in enumerate(text.split("\n"), 1):
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append((start, pending + line))
        pending = ""
    return out


def _strip_comments(text: str) -> str:
    return text.split("//", 1)[0]


def tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if found is None:
            raise Unreadable(f"cannot read {text[pos : pos + 20]!r}")
        number, name, op = found.groups()
        tokens.append(str(_integer(number)) if number else name or op)
        pos = found.end()
    return tokens


def _integer(literal: str) -> int:
    """A C integer literal (suffixes already dropped): hex, octal with a leading 0, decimal."""
    if len(literal) > MAX_LITERAL_DIGITS:
        raise Unreadable(f"a {len(literal)}-digit literal")
    try:
        if literal[:2] in ("0x", "0X"):
            return int(literal, 16)
        return int(literal, 8) if literal.startswith("0") and len(literal) > 1 else int(literal)
    except ValueError:
        raise Unreadable(f"{literal} is not a C integer") from None


def expand(
    header: Header, tokens: list[str], hidden: frozenset[str] = frozenset(), budget: list[int] | None = None
) -> list[str]:
    """Macro expansion (with `hidden` names not re-expanded, as the C preprocessor does).

    `budget` counts the tokens every nested expansion of one expression handles: past it the
    expression is unreadable, so a header crafted to explode cannot take minutes.
    """
    budget = [MAX_EXPANSION_STEPS] if budget is None else budget
    out: list[str] = []
    i = 0
    while i < len(tokens):
        budget[0] -= 1
        if budget[0] < 0:
            raise Unreadable("expansion too long")
        token = tokens[i]
        macro = header.macros.get(token)
        if macro is None or token in hidden:
            out.append(token)
            i += 1
            continue
        if macro.params is None:
            out.extend(expand(header, tokenize(macro.body), hidden | {token}, budget))
            i += 1
        else:
            if i + 1 >= len(tokens) or tokens[i + 1] != "(":
                out.append(token)
                i += 1
                continue
            args, i = _arguments(tokens, i + 2)
            out.extend(expand(header, _substitute(header, macro, args, hidden, budget), hidden | {token}, budget))
        if len(out) > MAX_EXPANSION:
            raise Unreadable("expansion too large")
    return out


def _arguments(tokens: list[str], i: int) -> tuple[list[list[str]], int]:
    args: list[list[str]] = [[]]
    depth = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "(":
            depth += 1
        elif token == ")":
            if depth == 0:
                return ([] if args == [[]] else args), i + 1
            depth -= 1
        elif token == "," and depth == 0:
            args.append([])
            i += 1
            continue
        args[-1].append(token)
        i += 1
    raise Unreadable("unbalanced parentheses")


def _substitute(
    header: Header, macro: Macro, args: list[list[str]], hidden: frozenset[str], budget: list[int]
) -> list[str]:
    params = list(macro.params or ())
    variadic = params[-1:] == ["..."]
    named = params[:-1] if variadic else params
    bound = {name: args[k] if k < len(args) else [] for k, name in enumerate(named)}
    if variadic:
        rest = args[len(named) :]
        joined: list[str] = []
        for k, arg in enumerate(rest):
            joined += ([","] if k else []) + arg
        bound["__VA_ARGS__"] = joined
    body = tokenize(macro.body)
    out: list[str] = []
    expanded: dict[str, list[str]] = {}  # each argument expanded once, however often it is used
    k = 0
    while k < len(body):
        token = body[k]
        if k + 1 < len(body) and body[k + 1] == "##" and k + 2 < len(body):
            left = "".join(bound.get(token, [token]))
            right = "".join(bound.get(body[k + 2], [body[k + 2]]))
            body[k + 2] = left + right  # pasted; may paste again
            k += 2
            continue
        # Arguments are macro-expanded before substitution (unless pasted, above).
        if token in bound:
            if token not in expanded:
                expanded[token] = expand(header, bound[token], hidden, budget)
            out.extend(expanded[token])
        else:
            out.append(token)
        if len(out) > MAX_EXPANSION:
            raise Unreadable("expansion too large")
        k += 1
    return out


def evaluate(header: Header, text: str) -> int:
    tokens = expand(header, tokenize(text))
    parser = _Expression(tokens)
    value = parser.parse(0)
    if parser.pos != len(tokens):
        raise Unreadable(f"unexpected {tokens[parser.pos]!r}")
    return value & MASK64


class _Expression:
    """Precedence climbing over integer tokens; identifiers left after expansion are unreadable."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.pos = tokens, 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self, floor: int) -> int:
        left = self._unary()
        while (op := self._peek()) in _BINARY and _BINARY[op] > floor:
            self.pos += 1
            right = self.parse(_BINARY[op])
            left = _apply(op, left, right)
        return left

    def _unary(self) -> int:
        token = self._peek()
        if token is None:
            raise Unreadable("expression ends early")
        self.pos += 1
        if token == "(":
            if self._peek() in _TYPES:  # a cast: (__u64)x, (unsigned long long)x
                while self._peek() in _TYPES:
                    self.pos += 1
                self._expect(")")
                return self._unary() & MASK64
            value = self.parse(0)
            self._expect(")")
            return value
        if token == "~":
            return ~self._unary() & MASK64
        if token == "-":
            return -self._unary() & MASK64
        if token == "+":
            return self._unary()
        if token.isdigit():
            return int(token)
        raise Unreadable(f"{token!r} is not a number or a known macro")

    def _expect(self, token: str) -> None:
        if self._peek() != token:
            raise Unreadable(f"expected {token!r}")
        self.pos += 1


def _apply(op: str, left: int, right: int) -> int:
    """One binary operation (computed alone: a huge shift or a zero divisor is unreadable)."""
    if op in ("<<", ">>"):
        if not 0 <= right < 128:
            raise Unreadable("shift out of range")
        return (left << right if op == "<<" else left >> right) & MASK64
    if op in ("/", "%"):
        if right == 0:
            raise Unreadable("division by zero")
        return (left // right if op == "/" else left % right) & MASK64
    operations = {
        "|": int.__or__,
        "^": int.__xor__,
        "&": int.__and__,
        "+": int.__add__,
        "-": int.__sub__,
        "*": int.__mul__,
    }
    return operations[op](left, right) & MASK64
