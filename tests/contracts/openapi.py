"""Holding HTTP traffic to a vendor's OpenAPI file: a request's path, method, parameters and body, and an answer's body,
checked against the operation the file declares for them (JSON Schema 2020-12, as OpenAPI 3.1 schemas are).

Each problem is a line naming the operation and what is wrong; an empty list is a request (or answer) the file allows.
Formats (`url`, `unix timestamp`, …) are annotations here, as JSON Schema has them by default."""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = Path(__file__).parent
METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class GuideWins:
    """Where the vendor's guides and its OpenAPI file disagree, the guide wins: a problem this matches is none."""

    operation: str
    """The operation, as a problem names it (`PATCH /flows/{id}`; fnmatch patterns allowed)."""
    problem: str
    """A regular expression searched for in the problem's line."""
    source: str
    """The guide, and what it shows."""

    def excuses(self, line: str) -> bool:
        """Whether this is the disagreement `line` reports."""
        name, _, rest = line.partition(": ")
        operation = name.removesuffix(" body").split(" answer ")[0]
        return fnmatch.fnmatchcase(operation, self.operation) and re.search(self.problem, rest) is not None


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


YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML has it: Adobe's files load in a tenth of the time, in every test process."""


class Contract:
    """An OpenAPI file (3.1, 3.0 or Swagger 2.0, read as 3.1), loaded once: which operation a request is, and
    whether the file allows it."""

    def __init__(self, path: Path, guides: tuple[GuideWins, ...] = ()) -> None:
        self.path = path
        self.guides = guides
        self._uri = f"urn:contract:{path.name}"
        source = path.read_text()
        loaded = json.loads(source) if path.suffix == ".json" else yaml.load(source, Loader=YAML_LOADER)
        # Every `$ref` made absolute, so any schema of the file can be validated on its own.
        text = json.dumps(as_openapi_31(loaded), default=str).replace('"$ref": "#/', f'"$ref": "{self._uri}#/')
        self.document: dict[str, Any] = json.loads(text)
        servers = self.document.get("servers") or [{"url": ""}]
        self.base_path = urlsplit(str(servers[0].get("url", ""))).path.rstrip("/")
        """Where the file's paths start on its host (`/data/foundation/flowservice`)."""
        self._registry: Registry[Any] = Registry().with_resource(
            self._uri, Resource.from_contents(self.document, default_specification=DRAFT202012)
        )
        self.operations = [
            Operation(
                method,
                template,
                re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"),
                item[method],
                tuple(self.deref(p) for p in (*item.get("parameters", ()), *item[method].get("parameters", ()))),
            )
            for template, item in self.document.get("paths", {}).items()
            for method in METHODS
            if method in item
        ]

    def deref(self, node: dict[str, Any]) -> dict[str, Any]:
        """An object as written, or the one its `$ref` names within the file."""
        while isinstance(node.get("$ref"), str) and node["$ref"].startswith(f"{self._uri}#/"):
            target: Any = self.document
            for part in node["$ref"].split("#/", 1)[1].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def schema(self, pointer: str) -> dict[str, Any]:
        """The schema at a JSON pointer into the file, as a schema of its own."""
        return {"$ref": f"{self._uri}#{pointer}"}

    def schema_problems(self, schema: dict[str, Any], instance: Any, what: str) -> list[str]:
        """Why `instance` is not an instance of `schema` (one of the file's, its `$ref`s resolved), one line each."""
        errors = Draft202012Validator(schema, registry=self._registry).iter_errors(instance)
        return [
            f"{what}: {_where(e.absolute_path)}{_short(e.message)}"
            for e in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
        ]

    def operation(self, method: str, path: str) -> tuple[Operation | None, dict[str, str]]:
        """The operation serving `method` on `path`, with the path's parameters (None: the file has no such call)."""
        for op in self.operations:
            match = op.pattern.match(path)
            if match and op.method == method.lower():
                return op, match.groupdict()
        return None, {}

    def request_problems(
        self, method: str, path: str, query: Mapping[str, str], body: bytes, headers: Mapping[str, str]
    ) -> list[str]:
        """Everything about a request the file does not allow (`headers` by lower-case name; only a required one
        missing is a problem: HTTP has many others); an unknown path or method is one problem."""
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
            problems += self.schema_problems(schema, _typed(value, schema), f"{op.name}: {place} parameter {name}")
        for (place, name), parameter in declared.items():
            missing = name.lower() not in headers if place == "header" else (place, name) not in given
            if parameter.get("required") and missing and place in ("path", "query", "header"):
                problems.append(f"{op.name}: required {place} parameter {name!r} is missing")
        return self._unexcused(problems + self._body_problems(op, body))

    def _unexcused(self, problems: list[str]) -> list[str]:
        return [p for p in problems if not any(g.excuses(p) for g in self.guides)]

    def _body_problems(self, op: Operation, body: bytes) -> list[str]:
        declared = self.deref(op.spec.get("requestBody", {}))
        content = declared.get("content", {})
        if not content:
            return [f"{op.name}: takes no body, got {len(body)} bytes"] if body.strip() else []
        if not body.strip():
            return [f"{op.name}: the body is required"] if declared.get("required", False) else []
        kind = next((k for k in content if "json" in k), None)
        if kind is None or "schema" not in content[kind]:
            return []
        try:
            document = json.loads(body)
        except ValueError:
            return [f"{op.name}: the body is not JSON"]
        return self.schema_problems(content[kind]["schema"], document, f"{op.name} body")

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
        content = self.deref(responses[key]).get("content", {})
        kind = next((k for k in content if "json" in k and "schema" in content[k]), None)
        if kind is None:
            return [] if body in (None, b"", "") or content else [f"{op.name} answer {status}: the spec gives no body"]
        return self._unexcused(self.schema_problems(content[kind]["schema"], body, f"{op.name} answer {status}"))


def as_openapi_31(document: dict[str, Any]) -> dict[str, Any]:
    """A 3.0 or Swagger 2.0 file in 3.1's terms, so one validator serves all: `nullable` becomes a `null` type, and
    Swagger's body parameters, response schemas and definitions move where 3.1 has them. Nothing else changes."""
    if document.get("swagger") == "2.0":
        document = _from_swagger(document)
    if str(document.get("openapi", "")).startswith("3.0"):
        _nullable_as_type(document)
    return document


def _nullable_as_type(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("nullable") is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        for value in node.values():
            _nullable_as_type(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_as_type(value)


def _from_swagger(swagger: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(swagger, default=str).replace('"#/definitions/', '"#/components/schemas/')
    swagger = json.loads(text.replace('"#/parameters/', '"#/components/parameters/'))
    paths: dict[str, Any] = {}
    shared = swagger.get("parameters", {})

    def named(parameter: dict[str, Any]) -> dict[str, Any]:
        ref = parameter.get("$ref")
        return shared[ref.rsplit("/", 1)[1]] if isinstance(ref, str) else parameter

    for template, item in swagger.get("paths", {}).items():
        paths[template] = {"parameters": [_parameter(named(p)) for p in item.get("parameters", ())]}
        for method in METHODS:
            if method in item:
                op = item[method]
                paths[template][method] = _swagger_operation(
                    {**op, "parameters": [named(p) for p in op.get("parameters", ())]}
                )
    return {
        "openapi": "3.1.0",
        "info": swagger.get("info", {}),
        "servers": [{"url": swagger.get("basePath", "")}],
        "paths": paths,
        "components": {
            "schemas": swagger.get("definitions", {}),
            "parameters": {k: _parameter(v) for k, v in swagger.get("parameters", {}).items()},
        },
    }


def _swagger_operation(op: dict[str, Any]) -> dict[str, Any]:
    body = [p for p in op.get("parameters", ()) if p.get("in") == "body"]
    converted = {
        **op,
        "parameters": [_parameter(p) for p in op.get("parameters", ()) if p.get("in") not in ("body", "formData")],
        "responses": {
            code: {k: v for k, v in answer.items() if k != "schema"}
            | ({"content": {"application/json": {"schema": answer["schema"]}}} if "schema" in answer else {})
            for code, answer in op.get("responses", {}).items()
        },
    }
    if body:
        converted["requestBody"] = {
            "required": bool(body[0].get("required")),
            "content": {"application/json": {"schema": body[0].get("schema", {})}},
        }
    return converted


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    if "schema" in parameter or "$ref" in parameter:
        return parameter
    keys = ("type", "format", "enum", "items", "default", "minimum", "maximum", "pattern")
    return {
        **{k: v for k, v in parameter.items() if k not in keys},
        "schema": {k: v for k, v in parameter.items() if k in keys},
    }


@cache
def contract(relative: str, guides: tuple[GuideWins, ...] = ()) -> Contract:
    """A spec file under tests/contracts, loaded once per process."""
    return Contract(HERE / relative, guides)


def served(contracts: tuple[Contract, ...], path: str) -> tuple[Contract, str] | None:
    """The file whose base path `path` is under (the longest), with the path as that file names it. A file served at
    its host's root (the streaming inlet's) holds only the paths it names."""
    under = [
        c
        for c in contracts
        if (path.startswith(c.base_path + "/") if c.base_path else any(o.pattern.match(path) for o in c.operations))
    ]
    if not under:
        return None
    chosen = max(under, key=lambda c: len(c.base_path))
    return chosen, path[len(chosen.base_path) :] or "/"


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
    if kind == "array":  # `form` style, exploded (OpenAPI's default for a query): one value is a list of one
        return [_typed(value, schema.get("items", {}))]
    return value


def _short(message: str) -> str:
    """A message that quotes a large value, cut in its middle (the end says what is wrong)."""
    return message if len(message) <= 300 else f"{message[:150]} … {message[-150:]}"


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
