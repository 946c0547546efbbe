"""Etag-guarded writes for Flow Service objects: send If-Match, and recover once from a 412."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from customerio_aep.aep.answers import obj, objects
from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepApiError

FLOW_SERVICE = "/data/foundation/flowservice"
T = TypeVar("T")


def get_item(client: AepClient, label: str, kind: str, object_id: str) -> dict[str, Any] | None:
    """GET a Flow Service object (unwrapping `items`), or None when it no longer exists."""
    # Quoted: an id may come from an operator's flag, and '/', '?' or '..' in it must not name another path.
    body = client.get(label, f"read {kind}", f"{FLOW_SERVICE}/{kind}/{quote(object_id, safe='')}")
    if body is None:
        return None
    items = objects(obj(body).get("items"))
    return dict(items[0]) if items else None


def find_by_name(
    client: AepClient, label: str, kind: str, name: str, same: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    """The Flow Service object of this kind with this name that `same` recognises as ours (`property=name==`)."""
    body = client.call(
        label, f"look for {kind} {name!r}", "GET", f"{FLOW_SERVICE}/{kind}", params={"property": f"name=={name}"}
    ).json()
    return next((dict(i) for i in objects(obj(body).get("items")) if i.get("name") == name and same(i)), None)


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
