"""Removes what acceptance runs left in an org: every object whose name or title carries a run prefix (and only those),
dataflows first, then what they used; printing each one.

Mapping sets have no name and AEP keeps them as history (help/data-prep/api/mapping-set.md: no delete), so they are
left; identity namespaces are never created by the suite. Each listing reads the first 100 objects of its kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import requests

from customerio_aep.aep.answers import obj, objects
from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepApiError
from customerio_aep.retry import RetryPolicy, send

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

    def ours(kind: str, name: object, object_id: object) -> bool:
        """Whether a listed object is one to remove; one named like ours without an id is reported, not removed."""
        if not wanted(str(name)):
            return False
        if isinstance(object_id, str) and object_id:
            return True
        swept.failed.append(f"{kind} {name!r}: listed without an id")
        say(f"  skipped {kind} {name!r}: AEP listed it without an id")
        return False

    for kind in ("flows", "sourceConnections", "targetConnections"):
        listed = client.call(RESOURCE, f"list {kind}", "GET", f"{FLOWS}/{kind}", params={"limit": "100"}).json()
        for item in objects(obj(listed).get("items")):
            if ours(kind[:-1], item.get("name", ""), item.get("id")):
                remove(kind[:-1], item["name"], f"{FLOWS}/{kind}/{quote(item['id'], safe='')}",
                       {"If-Match": str(item.get("etag"))})  # fmt: skip
    datasets = client.call(RESOURCE, "list datasets", "GET", f"{CATALOG}/dataSets", params={"limit": "100"}).json()
    for dataset_id, dataset in obj(datasets).items():
        name = obj(dataset).get("name", "")
        if ours("dataset", name, dataset_id):
            remove("dataset", str(name), f"{CATALOG}/dataSets/{quote(dataset_id, safe='')}")
    for kind in ("schemas", "fieldgroups"):
        listed = client.call(
            RESOURCE, f"list {kind}", "GET", f"{REGISTRY}/tenant/{kind}", headers={"Accept": XED_ID}
        ).json()
        for item in objects(obj(listed).get("results")):
            if ours(kind[:-1], item.get("title", ""), item.get("$id")):
                remove(kind[:-1], item["title"], f"{REGISTRY}/tenant/{kind}/{quote(item['$id'], safe='')}")
    if customerio is not None:
        base, key = customerio
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"

        def call(method: str, url: str) -> requests.Response:
            """A Customer.io call, its 429s (ten requests a second) and 5xx waited out as every client here does."""
            response = send(session, RetryPolicy(), lambda e: e, method, url)
            response.raise_for_status()
            return response

        for hook in objects(obj(call("GET", f"{base}/v1/reporting_webhooks").json()).get("reporting_webhooks")):
            hook_id = hook.get("id")
            if ours("reporting webhook", hook.get("name", ""), str(hook_id) if isinstance(hook_id, int) else hook_id):
                try:
                    call("DELETE", f"{base}/v1/reporting_webhooks/{quote(str(hook_id), safe='')}")
                except requests.RequestException as e:
                    done("reporting webhook", hook["name"], e)
                    continue
                done("reporting webhook", hook["name"], None)
    return swept
