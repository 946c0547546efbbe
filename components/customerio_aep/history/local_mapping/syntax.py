"""A Data Prep expression's parse tree: small typed nodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Literal:
    """A number, a string, true, false or null."""

    value: Any


@dataclass(frozen=True)
class Path:
    """A source attribute, e.g. `data.email_address`."""

    path: str

    @property
    def parts(self) -> tuple[str, ...]:
        """The path split at its dots."""
        return tuple(self.path.split("."))


@dataclass(frozen=True)
class Unary:
    """`-x` or `!x`."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    """`a op b`: arithmetic, a comparison, `&&` or `||`."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    """A function call, by the function's canonical name (`lower` for `lcase`)."""

    function: str
    args: tuple[Node, ...]


Node = Literal | Path | Unary | Binary | Call
"""Any node of a parse tree."""


def source_paths(node: Node) -> set[str]:
    """The event attributes an expression reads."""
    if isinstance(node, Path):
        return {node.path}
    if isinstance(node, Unary):
        return source_paths(node.operand)
    if isinstance(node, Binary):
        return source_paths(node.left) | source_paths(node.right)
    if isinstance(node, Call):
        return set().union(*(source_paths(arg) for arg in node.args))
    return set()
