"""The fidelity guard: before a batch is uploaded, AEP's own Data Prep maps a sample of its events
(`POST /mappingSets/preview`, help/data-prep/api/mapping-set.md) and each local record must equal AEP's, field for
field."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from typing import Any

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.mapping_set import DATA_PREP

PREVIEW = f"{DATA_PREP}/preview"
RANDOM_SAMPLE = 3
"""Events drawn at random from each batch besides one of every object type and metric not yet checked."""


class FidelityError(RuntimeError):
    """A local record differs from AEP's preview of the same event: nothing of it is uploaded."""


class FidelityGuard:
    """Checks local records against AEP's preview of the dataflow's mapping set; each object type and metric once a
    run, plus a few at random per batch."""

    def __init__(self, client: AepClient, mapping_set: Mapping[str, Any], seed: int | None = None) -> None:
        self.client = client
        self.body = {"outputSchema": mapping_set["outputSchema"], "mappings": mapping_set["mappings"]}
        self.checked: set[str] = set()
        self.compared = 0
        self._random = random.Random(seed)

    def check(self, samples: Iterable[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
        """`samples` are (kind, event, local record) of one batch: those to compare are sent to AEP's preview; the
        first difference raises FidelityError naming the field and the event's kind."""
        pool = list(samples)
        first_of_kind = {}
        for kind, event, record in pool:
            if kind not in self.checked and kind not in first_of_kind:
                first_of_kind[kind] = (kind, event, record)
        picked = list(first_of_kind.values())
        picked += self._random.sample(pool, min(RANDOM_SAMPLE, len(pool)))
        if not picked:
            return
        answer = self.client.call(
            "history fidelity guard", "preview the mapping set", "POST", PREVIEW,
            json={"data": [event for _, event, _ in picked], "mappingSet": self.body},
        ).json()  # fmt: skip
        # One `{data, errors}` for each record sent, in order (help/data-prep/api/mapping-set.md).
        results = answer if isinstance(answer, list) else []
        for i, (kind, _event, ours) in enumerate(picked):
            result = results[i] if i < len(results) and isinstance(results[i], dict) else {}
            aep = result.get("data")
            if not isinstance(aep, dict):
                why = "; ".join(
                    str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in result.get("errors") or []
                )
                raise FidelityError(
                    f"{kind} event: AEP's preview made no record ({why or 'no record'}) where this run made one"
                )
            difference = first_difference(ours, aep)
            if difference is not None:
                field, mine, adobe = difference
                raise FidelityError(
                    f"{kind} event: field {field} is {mine!r} here but {adobe!r} in AEP's preview of the mapping set"
                )
        self.compared += len(picked)
        self.checked.update(first_of_kind)


def first_difference(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> tuple[str, Any, Any] | None:
    """The first field (dotted path) whose values differ, with both values; date-times equal as instants and numbers
    equal as numbers (AEP converts those representations)."""
    mine, adobe = _leaves(ours), _leaves(theirs)
    for path in sorted(set(mine) | set(adobe)):
        a, b = mine.get(path), adobe.get(path)
        if not _same(a, b):
            return path, a, b
    return None


def _leaves(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, Mapping):
            out.update(_leaves(value, f"{prefix}{key}."))
        elif value is not None:
            out[f"{prefix}{key}"] = value
    return out


def _same(a: Any, b: Any) -> bool:
    if a == b and type(a) is type(b):
        return True
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    if isinstance(a, str) and isinstance(b, str):
        when_a, when_b = _instant(a), _instant(b)
        return when_a is not None and when_a == when_b
    return False


def _instant(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
