"""A preview as Markdown for a pull request: data at risk first, then what changes in words, the streaming budget,
the data usage labels and the mapping, each record made from made-up events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from customerio_aep.ingress.budget import PLANNING_CAMPAIGN_EVENTS
from customerio_aep.review.mapping_change import TypeChange, mapping_change
from customerio_aep.review.preview import OP_WORDS, Change, Preview

EVENT_HOLDERS = {"Dataset": "AEP dataset", "Queue": "SQS queue", "Bucket": "S3 bucket", "BucketV2": "S3 bucket"}
"""The kinds of resource that hold events: replacing or deleting one may lose them."""
PREVIEW_FAILED = "preview failed"
"""The one line `pulumi preview --json` gives when a policy pack's mandatory rule is broken: the rule is in its log,
or among the policy events of a stream of engine events."""
FAILED_WITHOUT_REASON = (
    "- :no_entry: the preview failed, its JSON saying no more: a policy pack's mandatory rule is broken, or the "
    "preview stopped; its log names the rule and the fix (run it with PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true "
    "and the review names the rule)"
)
FAILED_BY_POLICY = "- :no_entry: the preview failed: a policy pack's mandatory rule is broken (Policy results)"
SHOWN_TYPES = 12
"""Event types named for one group of the mapping change; the rest are counted."""
CELL = 80
"""The longest value a table cell shows."""


def render(preview: Preview) -> str:
    """The review of a preview, the same text for the same preview."""
    sections = [
        _data_at_risk(preview),
        _policies(preview),
        _what_changes(preview.changes),
        _budget(preview.changes),
        _labels(preview.changes),
        _mappings(preview.changes),
    ]
    return "\n\n".join(["## Customer.io → AEP: review of this change", *[s for s in sections if s]])


def _data_at_risk(preview: Preview) -> str:
    lines = [
        f"- :warning: **{EVENT_HOLDERS[c.kind]} `{c.name}` is {OP_WORDS[c.op]}**: any events it holds go with it"
        for c in preview.changes
        if c.kind in EVENT_HOLDERS and c.op in ("replace", "delete")
    ]
    failed = FAILED_BY_POLICY if any(v.level == "mandatory" for v in preview.violations) else FAILED_WITHOUT_REASON
    for said in preview.refusals:
        lines.append(failed if said == PREVIEW_FAILED else f"- :no_entry: the preview refused: {_cell(said, 400)}")
    if not lines:
        return "### Data at risk\nNone: no dataset, queue or bucket that holds events is replaced or deleted."
    return "### Data at risk\n" + "\n".join(lines)


def _policies(preview: Preview) -> str:
    if not preview.violations:
        return ""
    lines = [
        f"- {':no_entry:' if v.level == 'mandatory' else ':warning:'} {v.level} `{v.policy}` on `{v.resource}`: "
        f"{_cell(v.message, 400)}"
        for v in sorted(preview.violations, key=lambda v: (v.level != "mandatory", v.policy, v.resource))
    ]
    return "### Policy results\n" + "\n".join(lines)


def _what_changes(changes: tuple[Change, ...]) -> str:
    if not changes:
        return "### What changes\nNothing."
    lines = []
    for c in changes:
        fields = f": {', '.join(f'`{k}`' for k in c.changed)}" if c.op == "update" and c.changed else ""
        if c.replace_reasons:
            fields = f" (because of {', '.join(f'`{k}`' for k in c.replace_reasons)})"
        lines.append(f"- {c.kind} `{c.name}` {OP_WORDS[c.op]}{fields}")
    return "### What changes\n" + "\n".join(lines)


def _budget(changes: tuple[Change, ...]) -> str:
    """The forwarders' records a second (their concurrency times each one's pace) before and after."""
    before, after = _pace(changes, "old"), _pace(changes, "new")
    if before == after:
        return ""

    def said(rate: int | None) -> str:
        if not rate:
            return "none"
        minutes = PLANNING_CAMPAIGN_EVENTS / rate / 60
        return f"{rate:,} records/s (a {PLANNING_CAMPAIGN_EVENTS:,}-event campaign drains in {minutes:,.0f} min)"

    return f"### Streaming budget\n- from {said(before)}\n- to {said(after)}"


def _pace(changes: tuple[Change, ...], side: str) -> int | None:
    concurrency = per_second = None
    for c in changes:
        inputs = c.old if side == "old" else c.new
        if c.kind == "EventSourceMapping":
            concurrency = _get(inputs, "scalingConfig", "maximumConcurrency")
        elif c.kind == "Function":  # the forwarder is the function with a pace (not the receiver or the guard)
            per_second = _get(inputs, "environment", "variables", "PACE_PER_SECOND") or per_second
    if concurrency is None or per_second is None:
        return None
    try:
        return int(concurrency) * int(per_second)
    except (TypeError, ValueError):
        return None


def _get(doc: Any, *keys: str) -> Any:
    for key in keys:
        doc = doc.get(key) if isinstance(doc, Mapping) else None
    return doc


def _labels(changes: tuple[Change, ...]) -> str:
    lines = []
    for c in changes:
        if c.kind != "DatasetLabels":
            continue
        old, new = _labels_of(c.old), _labels_of(c.new)
        if old != new:
            added, removed = sorted(new - old), sorted(old - new)
            said = [f"added {', '.join(added)}"] if added else []
            said += [f"removed {', '.join(removed)}"] if removed else []
            lines.append(f"- `{c.name}`: {'; '.join(said)}")
    return "### Data usage labels\n" + "\n".join(lines) if lines else ""


def _labels_of(inputs: Mapping[str, Any]) -> set[str]:
    labels = inputs.get("labels")
    return {label for label in labels if isinstance(label, str)} if isinstance(labels, list) else set()


def _mappings(changes: tuple[Change, ...]) -> str:
    parts = []
    schemas = (c.new.get("fields") for c in changes if c.kind == "XdmSchema")
    fields = next((f for f in schemas if isinstance(f, dict) and f), None)
    for c in changes:
        if c.kind != "MappingSet" or c.op not in ("update", "replace") or "mappings" not in c.changed:
            continue
        groups = mapping_change(_entries(c.old), _entries(c.new), fields)
        parts.append(f"#### `{c.name}`\n" + ("\n\n".join(_group(g) for g in groups) or "No record changes."))
    if not parts:
        return ""
    intro = (
        "Made-up events of each type (never real ones) through the mapping now and after the change, evaluated "
        "here as Data Prep would:"
    )
    return "### Mapping change\n" + intro + "\n\n" + "\n\n".join(parts)


def _entries(inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    mappings = inputs.get("mappings")
    return [entry for entry in mappings if isinstance(entry, dict)] if isinstance(mappings, list) else []


def _group(group: TypeChange) -> str:
    named = ", ".join(f"`{t}`" for t in group.event_types[:SHOWN_TYPES])
    more = len(group.event_types) - SHOWN_TYPES
    if more > 0:
        named += f" and {more} more"
    marked = sum(1 for r in group.rows if r.mark)
    rows = "\n".join(
        f"| {'**' if r.mark else ''}`{r.field}`{'**' if r.mark else ''} | {_cell(r.old)} | {_cell(r.new)} | {r.mark} |"
        for r in group.rows
    )
    fields = "1 field changes" if marked == 1 else f"{marked} fields change"
    return (
        f"{named}: {fields}. The record of `{group.event_types[0]}`:\n\n"
        f"| field | now | after | |\n|---|---|---|---|\n{rows}"
    )


def _cell(text: str, limit: int = CELL) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("|", "\\|").replace("\n", " ")
