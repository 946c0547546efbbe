"""Removes what acceptance runs left in an org: every object whose name or title carries a run prefix (and only those),
dataflows first, then what they used; printing each one.

Mapping sets have no name and AEP keeps them as history (reference aep.md §4), so they are left; identity namespaces
are never created by the suite. Each listing reads the first 100 objects of its kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import requests

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepApiError

FLOWS = "/data/foundation/flowservice"
CATALOG = "/data/foundation/catalog"
REGISTRY = "/data/foundation/schemaregistry"
XED_ID = "application/vnd.adobe.xed-id+json"
RESOURCE = "acceptance sweeper"


@dataclass
class Swept:
    """What a sweep removed, and what it could not."""

    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def sweep(
    client: AepClient,
    wanted: Callable[[str], bool],
    say: Callable[[str], None],
    customerio: tuple[str, str] | None = None,
) -> Swept:
    """Delete every AEP object (and, given (base URL, key), Customer.io reporting webhook) whose name `wanted`."""
    swept = Swept()

    def done(kind: str, name: str, error: Exception | None) -> None:
        if error is None:
            swept.removed.append(f"{kind} {name!r}")
            say(f"  removed {kind} {name!r}")
        else:
            swept.failed.append(f"{kind} {name!r}: {error}")
            say(f"  could not remove {kind} {name!r}: {error}")

    def remove(kind: str, name: str, path: str, headers: dict[str, str] | None = None) -> None:
        try:
            client.delete(RESOURCE, f"delete {kind}", path, headers)
        except AepApiError as e:
            done(kind, name, e)
            return
        done(kind, name, None)

    for kind in ("flows", "sourceConnections", "targetConnections"):
        listed = client.call(RESOURCE, f"list {kind}", "GET", f"{FLOWS}/{kind}", params={"limit": "100"}).json()
        for item in listed.get("items") or []:
            if wanted(str(item.get("name", ""))):
                remove(kind[:-1], item["name"], f"{FLOWS}/{kind}/{item['id']}", {"If-Match": str(item.get("etag"))})
    datasets = client.call(RESOURCE, "list datasets", "GET", f"{CATALOG}/dataSets", params={"limit": "100"}).json()
    for dataset_id, dataset in (datasets or {}).items():
        if wanted(str(dataset.get("name", ""))):
            remove("dataset", dataset["name"], f"{CATALOG}/dataSets/{dataset_id}")
    for kind in ("schemas", "fieldgroups"):
        listed = client.call(
            RESOURCE, f"list {kind}", "GET", f"{REGISTRY}/tenant/{kind}", headers={"Accept": XED_ID}
        ).json()
        for item in listed.get("results") or []:
            if wanted(str(item.get("title", ""))):
                remove(kind[:-1], item["title"], f"{REGISTRY}/tenant/{kind}/{quote(str(item['$id']), safe='')}")
    if customerio is not None:
        base, key = customerio
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        hooks = session.get(f"{base}/v1/reporting_webhooks", timeout=30)
        hooks.raise_for_status()
        for hook in hooks.json().get("reporting_webhooks") or []:
            if wanted(str(hook.get("name", ""))):
                try:
                    session.delete(f"{base}/v1/reporting_webhooks/{hook['id']}", timeout=30).raise_for_status()
                except requests.RequestException as e:
                    done("reporting webhook", hook["name"], e)
                    continue
                done("reporting webhook", hook["name"], None)
    return swept
