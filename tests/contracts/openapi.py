"""Holding HTTP traffic to a vendor's OpenAPI file: a request's path, method, parameters and body, and an answer's body,
checked against the operation the file declares for them (JSON Schema 2020-12, as OpenAPI 3.1 schemas are).

Each problem is a line naming the operation and what is wrong; an empty list is a request (or answer) the file allows.
Formats (`url`, `unix timestamp`, …) are annotations here, as JSON Schema has them by default."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = Path(__file__).parent
METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Operation:
    """One method on one path template of a spec."""

    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]

    @property
    def name(self) -> str:
        """How a problem names it: `PUT /v1/reporting_webhooks/{webhook_id}`."""
        return f"{self.method.upper()} {self.template}"


class Contract:
    """An OpenAPI 3.1 file, loaded once: which operation a request is, and whether the file allows it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.document: dict[str, Any] = json.loads(path.read_text())
        self._uri = f"urn:contract:{path.name}"
        self._registry: Registry[Any] = Registry().with_resource(
            self._uri, Resource.from_contents(self.document, default_specification=DRAFT202012)
        )
        self.operations = [
            Operation(
                method,
                template,
                re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"),
                item[method],
                tuple(item.get("parameters", ())) + tuple(item[method].get("parameters", ())),
            )
            for template, item in self.document.get("paths", {}).items()
            for method in METHODS
            if method in item
        ]

    def validator(self, pointer: str) -> Draft202012Validator:
        """A validator of the schema at a JSON pointer into the file (its `$ref`s resolved within the file)."""
        return Draft202012Validator({"$ref": f"{self._uri}#{pointer}"}, registry=self._registry)

    def schema_problems(self, pointer: str, instance: Any, what: str) -> list[str]:
        """Why `instance` is not an instance of the schema at `pointer`, one line each."""
        return [
            f"{what}: {_where(e.absolute_path)}{e.message[:300]}"
            for e in sorted(self.validator(pointer).iter_errors(instance), key=lambda e: list(e.absolute_path))
        ]

    def operation(self, method: str, path: str) -> tuple[Operation | None, dict[str, str]]:
        """The operation serving `method` on `path`, with the path's parameters (None: the file has no such call)."""
        for op in self.operations:
            match = op.pattern.match(path)
            if match and op.method == method.lower():
                return op, match.groupdict()
        return None, {}

    def request_problems(self, method: str, path: str, query: Mapping[str, str], body: bytes) -> list[str]:
        """Everything about a request the file does not allow; an unknown path or method is one problem."""
        op, path_params = self.operation(method, path)
        if op is None:
            return [f"{method} {path}: not an operation of {self.path.name}"]
        problems: list[str] = []
        declared = {(p["in"], p["name"]): p for p in op.parameters}
        given = {("path", k): v for k, v in path_params.items()} | {("query", k): v for k, v in query.items()}
        for (place, name), value in given.items():
            parameter = declared.get((place, name))
            if parameter is None:
                problems.append(f"{op.name}: {place} parameter {name!r} is not in the spec")
                continue
            schema = parameter.get("schema", {})
            problems += [
                f"{op.name}: {place} parameter {name}={value!r}: {e.message[:200]}"
                for e in Draft202012Validator(schema, registry=self._registry).iter_errors(_typed(value, schema))
            ]
        for (place, name), parameter in declared.items():
            if parameter.get("required") and (place, name) not in given and place in ("path", "query"):
                problems.append(f"{op.name}: required {place} parameter {name!r} is missing")
        problems += self._body_problems(op, body)
        return problems

    def _body_problems(self, op: Operation, body: bytes) -> list[str]:
        content = op.spec.get("requestBody", {}).get("content", {})
        if not content:
            return [f"{op.name}: takes no body, got {len(body)} bytes"] if body.strip() else []
        if not body.strip():
            return [f"{op.name}: the body is required"] if op.spec["requestBody"].get("required", True) else []
        if "application/json" not in content:
            return []
        try:
            document = json.loads(body)
        except ValueError:
            return [f"{op.name}: the body is not JSON"]
        index = self._pointer(op, "requestBody", "content", "application/json", "schema")
        return self.schema_problems(index, document, f"{op.name} body")

    def answer_problems(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Whether an answer's status and body are what the file declares (an error status it leaves out is not
        checked: the files name only some of the errors an API gives)."""
        op, _ = self.operation(method, path)
        if op is None:
            return []
        responses = op.spec.get("responses", {})
        key = str(status) if str(status) in responses else "default" if "default" in responses else None
        if key is None:
            return [f"{op.name}: answered {status}, a success the spec does not give"] if status < 300 else []
        if "application/json" not in responses[key].get("content", {}):
            return [] if body in (None, b"", "") else [f"{op.name} answer {status}: the spec gives it no body"]
        pointer = self._pointer(op, "responses", key, "content", "application/json", "schema")
        return self.schema_problems(pointer, body, f"{op.name} answer {status}")

    def _pointer(self, op: Operation, *parts: str) -> str:
        escaped = [p.replace("~", "~0").replace("/", "~1") for p in ("paths", op.template, op.method, *parts)]
        return "/" + "/".join(escaped)


@cache
def contract(relative: str) -> Contract:
    """A spec file under tests/contracts, loaded once per process."""
    return Contract(HERE / relative)


def _typed(value: str, schema: Mapping[str, Any]) -> Any:
    """A query or path value as the type its schema names (they travel as text)."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


def _where(path: Any) -> str:
    parts = list(path)
    return f"{'.'.join(str(p) for p in parts)}: " if parts else ""


class Violations:
    """What the emulators found against the vendors' files during one test; a test that made any fails."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: list[str] = []
        self._expected = 0

    def add(self, problems: list[str]) -> None:
        """Record problems (an emulator calls this for a request or an answer)."""
        if problems:
            with self._lock:
                self._found += problems

    def take(self) -> list[str]:
        """The problems found since the last take, and forget them."""
        with self._lock:
            found, self._found = self._found, []
            return found

    @contextmanager
    def expected(self) -> Iterator[list[str]]:
        """A block that sends what the spec refuses on purpose (a test of the emulator's strictness): what it finds
        is handed to the test, not counted against it."""
        before = self.take()
        caught: list[str] = []
        try:
            yield caught
        finally:
            caught += self.take()
            self.add(before)


VIOLATIONS = Violations()
"""The one record of this process (emulators run in the test's process)."""
