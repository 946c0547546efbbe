"""Etag-guarded writes for Flow Service objects: send If-Match, and recover once from a 412."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepApiError

FLOW_SERVICE = "/data/foundation/flowservice"
T = TypeVar("T")


def get_item(client: AepClient, label: str, kind: str, object_id: str) -> dict[str, Any] | None:
    """GET a Flow Service object (unwrapping `items`), or None when it no longer exists."""
    body = client.get(label, f"read {kind}", f"{FLOW_SERVICE}/{kind}/{object_id}")
    if body is None:
        return None
    items = body.get("items") or []
    return dict(items[0]) if items else None


def find_by_name(
    client: AepClient, label: str, kind: str, name: str, same: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    """The Flow Service object of this kind with this name that `same` recognises as ours (`property=name==`)."""
    body = client.call(
        label, f"look for {kind} {name!r}", "GET", f"{FLOW_SERVICE}/{kind}", params={"property": f"name=={name}"}
    ).json()
    return next((dict(item) for item in body.get("items") or [] if item.get("name") == name and same(item)), None)


def guarded(
    client: AepClient,
    label: str,
    kind: str,
    object_id: str,
    etag: str,
    send: Callable[[str], T],
) -> T:
    """Run `send(etag)`; on 412 (changed meanwhile) fetch the current etag and send once more."""
    try:
        return send(etag)
    except AepApiError as e:
        if e.status != 412:
            raise
        live = get_item(client, label, kind, object_id)
        if live is None:
            raise
        return send(str(live["etag"]))
