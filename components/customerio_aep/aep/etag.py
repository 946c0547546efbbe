"""Etag-guarded writes for Flow Service objects: send If-Match, and recover once from a 412."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepApiError

FLOW_SERVICE = "/data/foundation/flowservice"


def get_item(client: AepClient, label: str, kind: str, object_id: str) -> dict[str, Any] | None:
    """GET a Flow Service object (unwrapping `items`), or None when it no longer exists."""
    try:
        response = client.call(label, f"read {kind}", "GET", f"{FLOW_SERVICE}/{kind}/{object_id}")
    except AepApiError as e:
        if e.status == 404:
            return None
        raise
    items = response.json().get("items") or []
    return dict(items[0]) if items else None


def guarded(
    client: AepClient,
    label: str,
    kind: str,
    object_id: str,
    etag: str,
    send: Callable[[str], requests.Response],
) -> requests.Response:
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
