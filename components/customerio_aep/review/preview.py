"""`pulumi preview --json` read into the changes a reviewer cares about, one per resource."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PROVIDER_KEY = "__provider"
"""A dynamic resource's pickled provider among its inputs: code, not a setting a reviewer changed."""
OP_WORDS = {
    "create": "created",
    "update": "updated in place",
    "replace": "replaced",
    "delete": "deleted",
    "import": "adopted",
}
"""What each of the engine's steps does, in words; other steps (same, read, refresh) change nothing."""
_WEIGHT = {"update": 1, "import": 1, "create": 2, "delete": 3, "replace": 4}
_STEP_OP = {
    "create-replacement": "replace",
    "delete-replaced": "replace",
    "discard": "delete",
    "import-replacement": "replace",
}


class PreviewError(ValueError):
    """The input is not `pulumi preview --json` output."""


@dataclass(frozen=True)
class Change:
    """One resource the preview would change."""

    op: str
    """create, update, replace, delete or import."""
    type: str
    """The resource's own type token, without its parents' (e.g. `pulumi-python:dynamic/aep:Dataset`)."""
    name: str
    old: dict[str, Any] = field(default_factory=dict)
    """Its inputs now (empty when it is created)."""
    new: dict[str, Any] = field(default_factory=dict)
    """Its inputs after the change (empty when it is deleted)."""
    replace_reasons: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """The type's last part: `Dataset`, `Queue`, `BucketV2`."""
        return self.type.rsplit(":", 1)[-1]

    @property
    def changed(self) -> tuple[str, ...]:
        """The inputs whose values differ, sorted (names only: values may be secret)."""
        keys = (set(self.old) | set(self.new)) - {PROVIDER_KEY}
        return tuple(sorted(k for k in keys if self.old.get(k) != self.new.get(k)))


@dataclass(frozen=True)
class Violation:
    """A policy pack's rule a resource (or the stack) breaks."""

    level: str
    """mandatory (it stops the preview) or advisory."""
    policy: str
    resource: str
    message: str


@dataclass(frozen=True)
class Preview:
    """What a preview would do, and what it refused."""

    changes: tuple[Change, ...]
    refusals: tuple[str, ...]
    """The preview's error diagnostics, one line each, in the order given."""
    violations: tuple[Violation, ...] = ()
    """The policy packs' findings: only a stream of engine events carries them."""


def read_preview(text: str) -> Preview:
    """The changes of `pulumi preview --json` output, one document or (with PULUMI_ENABLE_STREAMING_JSON_PREVIEW) a
    stream of engine events; PreviewError naming what is wrong with anything else."""
    document = _document(text)
    if not isinstance(document, dict) or not isinstance(document.get("steps", []), list):
        raise PreviewError("not `pulumi preview --json` output (no list of steps); give that command's output")
    by_urn: dict[str, Change] = {}
    for i, step in enumerate(document.get("steps", [])):
        change = _change(step, i)
        if change is None:
            continue
        urn = step["urn"]
        known = by_urn.get(urn)
        if known is None or _WEIGHT[change.op] > _WEIGHT[known.op]:
            by_urn[urn] = _merged(change, known)
        else:
            by_urn[urn] = _merged(known, change)
    diagnostics = document.get("diagnostics")
    refusals = tuple(
        _one_line(str(d.get("message", "")))
        for d in _list(diagnostics)
        if isinstance(d, dict) and d.get("severity") == "error"
    )
    violations = tuple(v for v in map(_violation, _list(document.get("policyEvents"))) if v is not None)
    return Preview(tuple(sorted(by_urn.values(), key=lambda c: (c.type, c.name))), refusals, violations)


def _document(text: str) -> Any:
    """The preview as one document: `--json`'s, or one gathered from a stream of engine events (a JSON object a
    line): each resource's step, the error diagnostics and the policy events."""
    try:
        document = json.loads(text)
        if not (isinstance(document, dict) and _EVENT_KEYS & set(document)):
            return document
        events = [document]
    except json.JSONDecodeError as e:
        try:
            events = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            said = f"not JSON ({e.msg} at line {e.lineno}); give the output of `pulumi preview --json`"
            raise PreviewError(said) from None
    gathered: dict[str, list[Any]] = {"steps": [], "diagnostics": [], "policyEvents": []}
    for event in events:
        if not isinstance(event, dict):
            raise PreviewError("not a stream of engine events (a line is not an object); give `pulumi preview --json`")
        pre = event.get("resourcePreEvent")
        step = pre.get("metadata") if isinstance(pre, dict) else None
        if isinstance(step, dict):
            # An event's `keys` are the inputs that force a replacement (the document's replaceReasons).
            states = {"oldState": step.get("old"), "newState": step.get("new"), "replaceReasons": step.get("keys")}
            gathered["steps"].append({**step, **states})
        if isinstance(event.get("diagnosticEvent"), dict):
            gathered["diagnostics"].append(event["diagnosticEvent"])
        if isinstance(event.get("policyEvent"), dict):
            gathered["policyEvents"].append(event["policyEvent"])
    return gathered


_EVENT_KEYS = {"resourcePreEvent", "diagnosticEvent", "policyEvent", "preludeEvent", "summaryEvent", "policyLoadEvent"}


def _violation(event: Any) -> Violation | None:
    if not isinstance(event, dict):
        return None
    urn = str(event.get("resourceUrn") or "")
    # The message is the rule's description, then what the rule found.
    lines = [line for line in str(event.get("message") or "").splitlines() if line.strip()]
    return Violation(
        level=str(event.get("enforcementLevel") or "advisory"),
        policy=str(event.get("policyName") or "?"),
        resource="the stack" if urn.count("::") < 3 or "::pulumi:pulumi:Stack::" in urn else urn.rsplit("::", 1)[-1],
        message=_one_line(" ".join(lines[1:] or lines)),
    )


def _change(step: Any, index: int) -> Change | None:
    if not isinstance(step, dict) or not isinstance(step.get("urn"), str) or step["urn"].count("::") < 3:
        raise PreviewError(f"steps[{index}] has no resource URN; give the output of `pulumi preview --json`")
    op = _STEP_OP.get(str(step.get("op")), str(step.get("op")))
    if op not in _WEIGHT:
        return None
    urn: str = step["urn"]
    qualified, name = urn.split("::")[2], urn.split("::", 3)[3]
    return Change(
        op=op,
        type=qualified.rsplit("$", 1)[-1],
        name=name,
        old=_inputs(step.get("oldState")),
        new=_inputs(step.get("newState")),
        replace_reasons=tuple(str(r) for r in _list(step.get("replaceReasons"))),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _inputs(state: Any) -> dict[str, Any]:
    inputs = state.get("inputs") if isinstance(state, dict) else None
    return dict(inputs) if isinstance(inputs, dict) else {}


def _merged(first: Change, other: Change | None) -> Change:
    """A replacement comes as two steps (create-replacement, delete-replaced): one change with both states."""
    if other is None:
        return first
    return Change(
        first.op,
        first.type,
        first.name,
        first.old or other.old,
        first.new or other.new,
        first.replace_reasons or other.replace_reasons,
    )


def _one_line(message: str) -> str:
    text = " ".join(message.split())
    return text.removeprefix("error: ")
