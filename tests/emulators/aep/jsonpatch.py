"""RFC 6902 JSON Patch (add, replace, remove) on a copy of a document, for the emulator's PATCH endpoints."""

from __future__ import annotations

import copy
from typing import Any

from tests.emulators.aep.errors import bad_field


class PatchError(ValueError):
    """An operation that cannot apply: names the operation's index and what is wrong."""


def pointer(path: str) -> list[str]:
    """The reference tokens of a JSON Pointer (`~1` is `/`, `~0` is `~`)."""
    if not path.startswith("/"):
        raise PatchError(f"path {path!r} must start with /")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def apply(document: dict[str, Any], ops: Any) -> dict[str, Any]:
    """The document with every operation applied, or PatchError; the input is never changed."""
    if not isinstance(ops, list) or not ops:
        raise PatchError("body must be a non-empty JSON Patch array")
    doc = copy.deepcopy(document)
    for i, op in enumerate(ops):
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
            raise PatchError(f"[{i}].op must be add, replace or remove")
        tokens = pointer(str(op.get("path", "")))
        parent: Any = doc
        for token in tokens[:-1]:
            if not isinstance(parent, dict) or token not in parent:
                raise PatchError(f"[{i}].path {op['path']!r}: {token!r} does not exist")
            parent = parent[token]
        last = tokens[-1]
        if not isinstance(parent, dict):
            raise PatchError(f"[{i}].path {op['path']!r} does not point into an object")
        if op["op"] != "add" and last not in parent:
            raise PatchError(f"[{i}].path {op['path']!r} does not exist")
        if op["op"] == "remove":
            del parent[last]
        else:
            if "value" not in op:
                raise PatchError(f"[{i}].value is required")
            parent[last] = copy.deepcopy(op["value"])
    return doc


def apply_allowed(document: dict[str, Any], ops: Any, allowed: tuple[str, ...], what: str) -> dict[str, Any]:
    """`apply`, for operations whose paths are one of `allowed` or under one ending in `/`; a 400 names the first
    operation that is not (`what` says what can change), or the operation that cannot apply."""
    for i, op in enumerate(ops if isinstance(ops, list) else []):
        path = str(op.get("path", "")) if isinstance(op, dict) else ""
        if not any(path == a or (a.endswith("/") and path.startswith(a)) for a in allowed):
            raise bad_field(f"[{i}].path", f"{path!r} cannot be changed ({what} can)")
    try:
        return apply(document, ops)
    except PatchError as e:
        raise bad_field("body", str(e)) from e
