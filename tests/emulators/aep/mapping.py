"""Data Prep mapping semantics the inlet applies: source paths, a subset of expressions, XDM destinations."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

# The Data Prep functions this emulator evaluates. An expression using any other is rejected at create
# time (stricter than AEP, which knows many more: the provider only emits these).
FUNCTIONS = {"dformat", "lower", "upper", "trim", "concat", "to_string", "iif", "is_set", "decode"}

_TOKEN = re.compile(r'\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>"[^"]*")|(?P<name>[A-Za-z_][\w.]*)|(?P<op>[(),*]))')


class ExpressionError(ValueError):
    """An expression the emulator cannot parse or evaluate."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ExpressionError(f"unexpected text at {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


@functools.lru_cache(maxsize=256)
def parse(text: str) -> Any:
    """Parse an expression into a small tree: ("call", name, args) | ("mul", a, b) | ("path", p) | ("lit", v).
    Cached: the inlet maps every event with the same few expressions (the tree is never changed)."""
    toks = _tokens(text)
    pos = 0

    def term() -> Any:
        nonlocal pos
        if pos >= len(toks):
            raise ExpressionError("expression ends early")
        kind, val = toks[pos]
        pos += 1
        if kind == "num":
            return ("lit", float(val) if "." in val else int(val))
        if kind == "str":
            return ("lit", val[1:-1])
        if kind == "name":
            if pos < len(toks) and toks[pos] == ("op", "("):
                pos += 1
                if val not in FUNCTIONS:
                    raise ExpressionError(f"unknown function {val}()")
                args = []
                while toks[pos] != ("op", ")"):
                    args.append(expr())
                    if toks[pos] == ("op", ","):
                        pos += 1
                pos += 1
                return ("call", val, tuple(args))
            if val in ("true", "false"):
                return ("lit", val == "true")
            return ("path", val)
        raise ExpressionError(f"unexpected {val!r}")

    def expr() -> Any:
        nonlocal pos
        left = term()
        while pos < len(toks) and toks[pos] == ("op", "*"):
            pos += 1
            left = ("mul", left, term())
        return left

    try:
        tree = expr()
    except IndexError as e:
        raise ExpressionError("unbalanced parentheses") from e
    if pos != len(toks):
        raise ExpressionError(f"unexpected {toks[pos][1]!r}")
    return tree


def get_path(doc: Any, path: str) -> Any:
    """The value at a dotted path, or None."""
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path, making objects on the way."""
    parts = path.split(".")
    for part in parts[:-1]:
        doc = doc.setdefault(part, {})
    doc[parts[-1]] = value


def evaluate(tree: Any, event: dict[str, Any]) -> Any:
    """Evaluate a parsed expression against an event."""
    kind = tree[0]
    if kind == "lit":
        return tree[1]
    if kind == "path":
        return get_path(event, tree[1])
    if kind == "mul":
        a, b = evaluate(tree[1], event), evaluate(tree[2], event)
        return None if a is None or b is None else a * b
    name, args = tree[1], [evaluate(a, event) for a in tree[2]]
    if name == "dformat":
        if args[0] is None:
            return None
        moment = dt.datetime.fromtimestamp(float(args[0]) / 1000, tz=dt.UTC)
        return _java_date(moment, str(args[1]) if len(args) > 1 else "yyyy-MM-dd'T'HH:mm:ss.SSSX")
    if name in ("lower", "upper", "trim"):
        if args[0] is None:
            return None
        s = str(args[0])
        return s.lower() if name == "lower" else s.upper() if name == "upper" else s.strip()
    if name == "concat":
        return "".join("" if a is None else str(a) for a in args)
    if name == "to_string":
        return None if args[0] is None else str(args[0]).lower() if isinstance(args[0], bool) else str(args[0])
    if name == "is_set":
        return args[0] is not None
    if name == "iif":
        return args[1] if args[0] else args[2]
    if name == "decode":
        # decode(KEY, K1, V1, …, [default]): the value of the first key equal to KEY, else the default (or null).
        key, options = args[0], args[1:]
        for k, v in zip(options[0::2], options[1::2], strict=False):
            if k == key:
                return v
        return options[-1] if len(options) % 2 else None
    raise ExpressionError(f"unknown function {name}()")


# Java DateTimeFormatter letters the emulator prints (UTC): longest first, so `yyyy` is not read as `yy` twice.
_JAVA = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")]


def _java_date(moment: dt.datetime, pattern: str) -> str:
    out = []
    for i, part in enumerate(pattern.split("'")):
        if i % 2:  # quoted literal text
            out.append(part or "'")
            continue
        text = part.replace("SSS", f"{moment.microsecond // 1000:03d}").replace("XXX", "Z").replace("X", "Z")
        for java, c in _JAVA:
            text = text.replace(java, moment.strftime(c))
        if any(ch.isalpha() and ch != "Z" for ch in text):
            raise ExpressionError(f"dformat: pattern {pattern!r} has letters the emulator does not print")
        out.append(text)
    return "".join(out)


def schema_paths(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Every leaf path of an XDM schema's properties with its type, e.g. {'_acme.cio.email': 'string'}."""
    out: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if spec.get("type") == "object" and "properties" in spec:
            out.update(schema_paths(spec["properties"], path + "."))
        else:
            out[path] = spec.get("type", "string")
    return out


def coerce(value: Any, xdm_type: str) -> Any:
    """Convert a mapped value to the destination's XDM type, as Data Prep does; ValueError if it cannot."""
    if value is None:
        return None
    if xdm_type == "string":
        return str(value).lower() if isinstance(value, bool) else str(value)
    if xdm_type == "integer":
        return int(value)
    if xdm_type == "number":
        return float(value)
    if xdm_type == "boolean":
        if isinstance(value, bool):
            return value
        raise ValueError(f"{value!r} is not a boolean")
    return value
