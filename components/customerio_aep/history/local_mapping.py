"""A Data Prep mapping set applied here, to history: the same records AEP's Data Prep makes of live events.

A batch goes straight into the dataset with no mapping applied (help/ingestion/batch-ingestion/api-overview.md), so the
batch road applies the dataflow's own mapping set version itself. This evaluator covers attribute copies and the
expressions the default mapping and documented `mappingExtra` use; anything else raises `UnsupportedMapping` naming the
function, never a guess. The fidelity guard (fidelity.py) checks it against AEP's `mappingSets/preview` before anything
is uploaded."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Tree = tuple[Any, ...]


class UnsupportedMapping(ValueError):
    """The mapping set uses what this evaluator does not evaluate exactly (a function, an operator, a pattern)."""


class RecordError(ValueError):
    """One event cannot become a record (AEP would fail it too): a value that does not convert, a required field
    empty."""


_TOKEN = re.compile(
    r"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<name>[A-Za-z_$][\w.$]*)"""
    r"""|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/%(),<>!?:]))"""
)
_BINARY = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6,
           "%": 6}  # fmt: skip
_WORDS = {"and": "&&", "or": "||", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
NONDETERMINISTIC = frozenset({"uuid", "guid", "now", "current_timestamp", "current_date", "current_time"})
DEPTH = 100
"""How deeply an expression may nest (parentheses, calls, operators): a mapping set's expressions nest a few levels;
deeper would exhaust Python's stack while parsing or evaluating."""


def _tokens(text: str) -> list[tuple[str, str]]:
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


def parse(text: str) -> Tree:
    """The expression as a tree; UnsupportedMapping for what cannot be read or is not evaluated here."""
    return _Parser(_tokens(text)).whole()


class _Parser:
    """A precedence-climbing parser over an expression's tokens."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def whole(self) -> Tree:
        tree = self.expression(0, 0)
        if self.pos != len(self.tokens):
            raise UnsupportedMapping(f"unexpected {self.tokens[self.pos][1]!r}")
        return tree

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise UnsupportedMapping("the expression ends early")
        tok = self.tokens[self.pos]
        if expected is not None and tok != ("op", expected):
            raise UnsupportedMapping(f"expected {expected!r}, found {tok[1]!r}")
        self.pos += 1
        return tok

    def primary(self, depth: int) -> Tree:
        _within(depth)
        kind, value = self.take()
        if kind == "num":
            return ("lit", float(value) if "." in value else int(value))
        if kind == "str":
            return ("lit", _string(value))
        if kind == "op" and value == "(":
            inner = self.expression(0, depth + 1)
            self.take(")")
            return inner
        if kind == "op" and value in ("-", "!"):
            return ("unary", value, self.primary(depth + 1))
        if kind != "name":
            raise UnsupportedMapping(f"unexpected {value!r}")
        if self.peek() == ("op", "("):
            return self.call(value, depth + 1)
        if value in ("true", "false"):
            return ("lit", value == "true")
        if value == "null":
            return ("lit", None)
        return ("path", value.removeprefix("$").strip("{}"))

    def call(self, name: str, depth: int) -> Tree:
        self.take("(")
        args: list[Tree] = []
        while self.peek() != ("op", ")"):
            args.append(self.expression(0, depth))
            if self.peek() == ("op", ","):
                self.take(",")
        self.take(")")
        return ("call", _function(name, len(args)), args)

    def expression(self, min_precedence: int, depth: int) -> Tree:
        left = self.primary(depth)
        while (tok := self.peek()) is not None and tok[0] == "op":
            depth += 1  # a chain of operators nests as deeply as parentheses once compiled
            _within(depth)
            if tok[1] == "?" and min_precedence == 0:
                self.take("?")
                then = self.expression(0, depth)
                self.take(":")
                left = ("call", "iif", [left, then, self.expression(0, depth)])
                continue
            precedence = _BINARY.get(tok[1])
            if precedence is None or precedence <= min_precedence:
                break
            self.take()
            left = ("binary", tok[1], left, self.expression(precedence, depth))
        return left


def _within(depth: int) -> None:
    if depth > DEPTH:
        raise UnsupportedMapping(f"the expression nests deeper than {DEPTH} levels")


def _string(token: str) -> str:
    try:
        return bytes(token[1:-1], "utf-8").decode("unicode_escape")
    except UnicodeDecodeError as e:
        raise UnsupportedMapping(f"cannot read the string {token[:20]!r}: {e.reason}") from None


def _function(name: str, given: int) -> str:
    canonical = _ALIASES.get(name.lower(), name.lower())
    if canonical in NONDETERMINISTIC:
        raise UnsupportedMapping(f"{name}() gives a different value on every call, so history cannot match it")
    if canonical not in _FUNCTIONS:
        raise UnsupportedMapping(f"function {name}() is not evaluated here")
    fewest, most = _ARITY.get(canonical, (1, 1))
    if not fewest <= given <= (most if most is not None else given):
        wanted = (f"{fewest}" if fewest == most else f"{fewest} or {most}" if most == fewest + 1 else
                  f"{fewest} or more" if most is None else f"{fewest} to {most}")  # fmt: skip
        raise UnsupportedMapping(f"{name}() takes {wanted} argument{'' if wanted == '1' else 's'}, not {given}")
    return canonical


# -- values --------------------------------------------------------------------------------------------------------
def _lookup(doc: Any, parts: Sequence[str]) -> Any:
    """The value at a source path (split at its dots) of an event, or None."""
    for part in parts:
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_JAVA_FIELDS: dict[str, Callable[[dt.datetime, int], str]] = {
    "y": lambda t, n: f"{t.year % 100:02d}" if n == 2 else f"{t.year:0{n}d}",
    "u": lambda t, n: f"{t.year % 100:02d}" if n == 2 else f"{t.year:0{n}d}",
    "M": lambda t, n: f"{t.month:0{n}d}",
    "d": lambda t, n: f"{t.day:0{n}d}",
    "H": lambda t, n: f"{t.hour:0{n}d}",
    "m": lambda t, n: f"{t.minute:0{n}d}",
    "s": lambda t, n: f"{t.second:0{n}d}",
    "S": lambda t, n: f"{t.microsecond:06d}"[:n].ljust(n, "0"),
    "X": lambda _t, _n: "Z",  # UTC: Java prints Z for a zero offset with X, XX, XXX
    "Z": lambda _t, _n: "+0000",
}


def java_format(moment: dt.datetime, pattern: str) -> str:
    """`moment` (UTC) printed with a Java DateTimeFormatter pattern; UnsupportedMapping for a letter not handled."""
    return "".join([part if isinstance(part, str) else part[0](moment, part[1]) for part in _java_pattern(pattern)])


@functools.lru_cache(maxsize=64)
def _java_pattern(pattern: str) -> tuple[str | tuple[Callable[[dt.datetime, int], str], int], ...]:
    # A mapping uses one or two patterns for every record: each is read once.
    out: list[str | tuple[Callable[[dt.datetime, int], str], int]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise UnsupportedMapping(f"dformat pattern {pattern!r}: an unclosed quote")
            out.append("'" if end == i + 1 else pattern[i + 1 : end])
            i = end + 1
        elif c.isalpha():
            n = len(pattern[i:]) - len(pattern[i:].lstrip(c))
            field = _JAVA_FIELDS.get(c)
            if field is None:
                raise UnsupportedMapping(f"dformat pattern letter {c!r} (in {pattern!r}) is not evaluated here")
            out.append((field, n))
            i += n
        else:
            out.append(c)
            i += 1
    return tuple(out)


def _dformat(args: list[Any]) -> Any:
    if args[0] is None:
        return None
    moment = dt.datetime.fromtimestamp(float(args[0]) / 1000, tz=dt.UTC)
    return java_format(moment, str(args[1]))


def _decode(args: list[Any]) -> Any:
    key, options = args[0], args[1:]
    for k, v in zip(options[0::2], options[1::2], strict=False):
        if k == key:
            return v
    return options[-1] if len(options) % 2 else None


def _concat(args: list[Any]) -> Any:
    return "".join("" if a is None else _text(a) for a in args)


def _strings(fn: Callable[[str], Any]) -> Callable[[list[Any]], Any]:
    return lambda args: None if args[0] is None else fn(_text(args[0]))


def _coalesce(args: list[Any]) -> Any:
    return next((a for a in args if a is not None), None)


def _substr(args: list[Any]) -> Any:
    if args[0] is None:
        return None
    text, start = _text(args[0]), int(args[1])
    return text[start:] if len(args) < 3 else text[start : int(args[2])]


def _digest(name: str) -> Callable[[list[Any]], Any]:
    return lambda args: None if args[0] is None else hashlib.new(name, _text(args[0]).encode()).hexdigest()


_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "concat": _concat,
    "decode": _decode,
    "dformat": _dformat,
    "lower": _strings(str.lower),
    "upper": _strings(str.upper),
    "trim": _strings(str.strip),
    "ltrim": _strings(str.lstrip),
    "rtrim": _strings(str.rstrip),
    "to_string": lambda args: None if args[0] is None else _text(args[0]),
    "is_set": lambda args: args[0] is not None,
    "is_empty": lambda args: args[0] is None or args[0] == "" or args[0] == [] or args[0] == {},
    "iif": lambda args: args[1] if args[0] else args[2],
    "coalesce": _coalesce,
    "substr": _substr,
    "replacestr": lambda args: None if args[0] is None else _text(args[0]).replace(_text(args[1]), _text(args[2])),
    "equals": lambda args: args[0] is not None and _text(args[0]) == _text(args[1]),
    "nullify": lambda _args: None,
    "sha256": _digest("sha256"),
    "sha1": _digest("sha1"),
    "md5": _digest("md5"),
    "to_integer": lambda args: None if args[0] is None else int(float(args[0])),
}
_ALIASES = {"lcase": "lower", "ucase": "upper"}
_ARITY: dict[str, tuple[int, int | None]] = {
    "concat": (1, None), "coalesce": (1, None), "decode": (3, None), "dformat": (2, 2), "iif": (3, 3),
    "substr": (2, 3), "replacestr": (3, 3), "equals": (2, 2),
}  # fmt: skip
"""How many arguments a function takes (fewest, most; None: any number), where that is not exactly one."""


def _arithmetic(op: str, a: Any, b: Any) -> Any:
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return _text(a) + _text(b)
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, int | float) or not isinstance(b, int | float):
        raise RecordError(f"{op} needs numbers, got {type(a).__name__} and {type(b).__name__}")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise RecordError("division by zero")
    if op == "%":
        return a % b
    quotient = a / b
    return int(quotient) if isinstance(a, int) and isinstance(b, int) and quotient.is_integer() else quotient


Compiled = Callable[[Mapping[str, Any]], Any]
"""An expression made ready to evaluate: the value it gives for one event."""

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {"<": operator.lt, ">": operator.gt, "<=": operator.le,
                                                     ">=": operator.ge}  # fmt: skip


def evaluate(tree: Tree, event: Mapping[str, Any]) -> Any:
    """A parsed expression's value for one event."""
    return compile_tree(tree)(event)


def compile_tree(tree: Tree) -> Compiled:
    """A parsed expression as a function of the event (a mapping set applies each of its expressions to every
    record, so the tree is walked once, not once a record)."""
    kind = tree[0]
    if kind == "lit":
        constant = tree[1]
        return lambda _event: constant
    if kind == "path":
        return _path(tuple(tree[1].split(".")))
    if kind == "unary":
        operand = compile_tree(tree[2])
        if tree[1] == "!":
            return lambda event: not operand(event)
        return lambda event: None if (value := operand(event)) is None else -value
    if kind == "binary":
        return _binary(tree[1], compile_tree(tree[2]), compile_tree(tree[3]))
    function = _FUNCTIONS[tree[1]]
    args = [compile_tree(arg) for arg in tree[2]]
    if function is _decode:
        table = _decode_table(tree[2][1:])
        if table is not None:
            return _decode_by_table(args[0], table, args[-1] if len(args) % 2 == 0 else None)
    return lambda event: function([arg(event) for arg in args])


def _path(parts: tuple[str, ...]) -> Compiled:
    # Most of a mapping set copies attributes one or two levels deep: those lookups are spelled out.
    if len(parts) == 1:
        (name,) = parts
        return lambda event: event.get(name) if isinstance(event, dict) else None
    if len(parts) == 2:
        outer, inner = parts

        def two_deep(event: Mapping[str, Any]) -> Any:
            found = event.get(outer) if isinstance(event, dict) else None
            return found.get(inner) if isinstance(found, dict) else None

        return two_deep
    return lambda event: _lookup(event, parts)


def _binary(op: str, left: Compiled, right: Compiled) -> Compiled:
    if op == "&&":
        return lambda event: bool(left(event)) and bool(right(event))
    if op == "||":
        return lambda event: bool(left(event)) or bool(right(event))
    if op == "==":
        return lambda event: left(event) == right(event)
    if op == "!=":
        return lambda event: left(event) != right(event)
    compare = _COMPARISONS.get(op)

    def apply(event: Mapping[str, Any]) -> Any:
        a, b = left(event), right(event)
        if a is None or b is None:
            return None
        return compare(a, b) if compare is not None else _arithmetic(op, a, b)

    return apply


def _decode_table(options: Sequence[Tree]) -> dict[Any, Any] | None:
    """decode()'s literal key and value pairs as a lookup (the first pair for a key wins, as decode() reads them in
    order), or None when a key or a value is not a literal."""
    pairs = options[: len(options) - len(options) % 2]
    if any(tree[0] != "lit" for tree in pairs):
        return None
    table: dict[Any, Any] = {}
    for key, value in zip(pairs[0::2], pairs[1::2], strict=True):
        table.setdefault(key[1], value[1])
    return table


def _decode_by_table(key: Compiled, table: dict[Any, Any], default: Compiled | None) -> Compiled:
    # The vocabulary's eventType expression is decode() over some sixty literal pairs: one lookup instead of a scan.
    def apply(event: Mapping[str, Any]) -> Any:
        value = key(event)
        fallback = None if default is None else default(event)
        try:
            return table.get(value, fallback)
        except TypeError:  # an unhashable key (a list or an object from the event) equals no literal
            return fallback

    return apply


# -- types ---------------------------------------------------------------------------------------------------------
def leaf_types(properties: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Every leaf path of an XDM schema's resolved properties with its type (`date-time` for formatted strings)."""
    out: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if spec.get("type") == "object" and "properties" in spec:
            out.update(leaf_types(spec["properties"], path + "."))
        elif spec.get("type") == "string" and spec.get("format") in ("date-time", "date"):
            out[path] = str(spec["format"])
        else:
            out[path] = str(spec.get("type", "string"))
    return out


def convert(value: Any, xdm_type: str, destination: str) -> Any:
    """A mapped value as the destination's XDM type, as Data Prep converts it; RecordError when it cannot."""
    if value is None:
        return None
    try:
        if xdm_type in ("string", "date-time", "date"):
            return _text(value)
        if xdm_type == "integer":
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value)
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        if xdm_type == "number":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if xdm_type == "boolean":
            if isinstance(value, bool):
                return value
            raise ValueError(value)
    except (TypeError, ValueError):
        raise RecordError(f"{destination}: {type(value).__name__} value does not convert to {xdm_type}") from None
    return value


# -- the mapping set -----------------------------------------------------------------------------------------------
REQUIRED = ("_id", "timestamp")


@dataclass(frozen=True)
class Entry:
    """One mapping entry, compiled: the destination, its XDM type, and how its value is made."""

    destination: str
    xdm_type: str
    value: Compiled
    parts: tuple[str, ...]
    """The destination's path, split."""

    @functools.cached_property
    def parents(self) -> tuple[str, ...]:
        """The objects the destination is in."""
        return self.parts[:-1]

    @functools.cached_property
    def leaf(self) -> str:
        """The destination's own name."""
        return self.parts[-1]

    @functools.cached_property
    def textual(self) -> bool:
        """Whether the destination holds text (a string value is then taken as it is)."""
        return self.xdm_type in ("string", "date-time", "date")


class LocalMapping:
    """A mapping set version compiled against its output schema: `record(event)` is the XDM record Data Prep makes."""

    def __init__(self, mappings: Sequence[Mapping[str, Any]], types: Mapping[str, str]) -> None:
        self._source = (list(mappings), dict(types))
        entries = []
        for i, raw in enumerate(mappings):
            source = raw.get("source", raw.get("sourceAttribute"))
            destination = raw.get("destination", raw.get("destinationXdmPath"))
            if not isinstance(source, str) or not isinstance(destination, str):
                raise UnsupportedMapping(f"mappings[{i}] has no source or destination")
            if destination not in types:
                raise UnsupportedMapping(f"mappings[{i}]: {destination!r} is not a field of the dataset's schema")
            try:
                tree = parse(source) if raw.get("sourceType", "ATTRIBUTE") == "EXPRESSION" else ("path", source)
            except UnsupportedMapping as e:
                raise UnsupportedMapping(f"{e} (mapping to {destination})") from None
            entries.append(Entry(destination, types[destination], compile_tree(tree), tuple(destination.split("."))))
        self.entries = tuple(entries)

    def __reduce__(self) -> tuple[type[LocalMapping], tuple[list[Mapping[str, Any]], dict[str, str]]]:
        # A page process gets the mapping set and compiles it there (compiled expressions are closures).
        return LocalMapping, self._source

    def record(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The XDM record of one event; RecordError when AEP would fail it."""
        record: dict[str, Any] = {}
        for entry in self.entries:
            try:
                raw = entry.value(event)
            except (TypeError, ValueError, ArithmeticError) as e:
                raise RecordError(f"{entry.destination}: {e}") from None
            if raw is None:
                continue
            # A string is taken as it is (most fields are strings); anything else converts as Data Prep converts it.
            value = raw if entry.textual and type(raw) is str else convert(raw, entry.xdm_type, entry.destination)
            doc = record
            for part in entry.parents:
                doc = doc.get(part) or doc.setdefault(part, {})
            doc[entry.leaf] = value
        for required in REQUIRED:
            if required not in record:
                raise RecordError(f"required XDM field {required} is not mapped or empty")
        return record
