"""A class's attribute docstrings (the string under each annotated attribute, which IDEs show), read from its source:
the component's arguments and outputs are described once, in Python, and the package schema takes them from there."""

from __future__ import annotations

import ast
import inspect
import textwrap


def attribute_docs(cls: type) -> dict[str, str]:
    """Each annotated attribute of `cls` that has a docstring, by name, its text on one line."""
    [node] = ast.parse(textwrap.dedent(inspect.getsource(cls))).body
    assert isinstance(node, ast.ClassDef)
    docs: dict[str, str] = {}
    for attribute, following in zip(node.body, node.body[1:], strict=False):
        if not (isinstance(attribute, ast.AnnAssign) and isinstance(attribute.target, ast.Name)):
            continue
        value = following.value if isinstance(following, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            docs[attribute.target.id] = " ".join(value.value.split())
    return docs
