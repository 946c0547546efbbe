"""Reading a Data Prep expression: its tokens, then a precedence-climbing parser into syntax.py's nodes."""

from __future__ import annotations

import re

from customerio_aep.history.local_mapping.errors import UnsupportedMapping
from customerio_aep.history.local_mapping.functions import canonical_function
from customerio_aep.history.local_mapping.syntax import Binary, Call, Literal, Node, Path, Unary

_TOKEN = re.compile(
    r"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<name>[A-Za-z_$][\w.$]*)"""
    r"""|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/%(),<>!?:]))"""
)
_BINARY = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6,
           "%": 6}  # fmt: skip
"""Each binary operator's precedence."""
_WORDS = {"and": "&&", "or": "||", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
DEPTH = 100
"""How deeply an expression may nest (parentheses, calls, operators): a mapping set's expressions nest a few levels;
deeper would exhaust Python's stack while parsing or evaluating."""

Token = tuple[str, str]


def parse(text: str) -> Node:
    """The expression as a tree; UnsupportedMapping for what cannot be read or is not evaluated here."""
    return _Parser(_tokens(text)).whole()


def _tokens(text: str) -> list[Token]:
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise UnsupportedMapping(f"cannot read the expression at {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "name" and value in _WORDS:
            kind, value = "op", _WORDS[value]
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    """A precedence-climbing parser over an expression's tokens."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens, self.pos = tokens, 0

    def whole(self) -> Node:
        tree = self.expression(0, 0)
        if self.pos != len(self.tokens):
            raise UnsupportedMapping(f"unexpected {self.tokens[self.pos][1]!r}")
        return tree

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> Token:
        if self.pos >= len(self.tokens):
            raise UnsupportedMapping("the expression ends early")
        tok = self.tokens[self.pos]
        if expected is not None and tok != ("op", expected):
            raise UnsupportedMapping(f"expected {expected!r}, found {tok[1]!r}")
        self.pos += 1
        return tok

    def primary(self, depth: int) -> Node:
        _within(depth)
        kind, value = self.take()
        if kind == "num":
            return Literal(float(value) if "." in value else int(value))
        if kind == "str":
            return Literal(_string(value))
        if kind == "op" and value == "(":
            inner = self.expression(0, depth + 1)
            self.take(")")
            return inner
        if kind == "op" and value in ("-", "!"):
            return Unary(value, self.primary(depth + 1))
        if kind != "name":
            raise UnsupportedMapping(f"unexpected {value!r}")
        if self.peek() == ("op", "("):
            return self.call(value, depth + 1)
        if value in ("true", "false"):
            return Literal(value == "true")
        if value == "null":
            return Literal(None)
        return Path(value.removeprefix("$").strip("{}"))

    def call(self, name: str, depth: int) -> Node:
        self.take("(")
        args: list[Node] = []
        while self.peek() != ("op", ")"):
            args.append(self.expression(0, depth))
            if self.peek() == ("op", ","):
                self.take(",")
        self.take(")")
        return Call(canonical_function(name, len(args)), tuple(args))

    def expression(self, min_precedence: int, depth: int) -> Node:
        left = self.primary(depth)
        while (tok := self.peek()) is not None and tok[0] == "op":
            depth += 1  # a chain of operators nests as deeply as parentheses once compiled
            _within(depth)
            if tok[1] == "?" and min_precedence == 0:
                self.take("?")
                then = self.expression(0, depth)
                self.take(":")
                left = Call("iif", (left, then, self.expression(0, depth)))
                continue
            precedence = _BINARY.get(tok[1])
            if precedence is None or precedence <= min_precedence:
                break
            self.take()
            left = Binary(tok[1], left, self.expression(precedence, depth))
        return left


def _within(depth: int) -> None:
    if depth > DEPTH:
        raise UnsupportedMapping(f"the expression nests deeper than {DEPTH} levels")


def _string(token: str) -> str:
    try:
        return bytes(token[1:-1], "utf-8").decode("unicode_escape")
    except UnicodeDecodeError as e:
        raise UnsupportedMapping(f"cannot read the string {token[:20]!r}: {e.reason}") from None
