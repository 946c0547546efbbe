"""Faults of our own AWS path, injected below the handlers through botocore's event hooks on their clients:
throttling answers (which botocore's retry mode sees as the real thing), SQS batch entries that fail, call counts."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from customerio_aep.ingress.lambdas import common


@dataclass
class Throttle:
    """Answer matching calls with ThrottlingException: `times` calls (None: all), or a `fraction` of them; only
    calls whose request body holds `when`, if given."""

    times: int | None = None
    fraction: float = 1.0
    when: str | None = None
    hits: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(3))

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        # botocore calls every before-send handler and uses the first answer, so moto would still act on a
        # throttled call: point it at a host moto does not serve, and back again for the next attempt.
        original = request.__dict__.setdefault("cio_original_url", request.url)
        request.url = original
        if self.times is not None and self.hits >= self.times:
            return None
        if self.when is not None and self.when.encode() not in (request.body or b""):
            return None
        if self.fraction < 1.0 and self.rng.random() >= self.fraction:
            return None
        self.hits += 1
        request.url = "https://throttled.invalid/"
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded (injected)"}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected"}
        return AWSResponse(request.url, 400, headers, MockRawResponse(body))


def throttle(service: str, operation: str, fault: Throttle) -> Throttle:
    """Put `fault` in front of `service.operation` on the handlers' client (before moto answers)."""
    common.client(service).meta.events.register_first(f"before-send.{_event_name(service)}.{operation}", fault)
    return fault


def count_calls(service: str, operation: str) -> list[int]:
    """A one-element counter of the calls the handlers' client makes to `service.operation` (retries included)."""
    counter = [0]

    def count(**_: Any) -> None:
        counter[0] += 1

    common.client(service).meta.events.register(f"before-send.{_event_name(service)}.{operation}", count)
    return counter


def fail_entries(pick: Callable[[dict[str, Any]], bool], times: int | None = None) -> list[int]:
    """SQS SendMessageBatch leaves the entries `pick` chooses unsent and reports them Failed (`times` calls)."""
    sqs = common.client("sqs")
    original = sqs.send_message_batch
    hits = [0]

    def partial(**kwargs: Any) -> dict[str, Any]:
        if times is not None and hits[0] >= times:
            return dict(original(**kwargs))
        dropped = [e for e in kwargs["Entries"] if pick(e)]
        if dropped:
            hits[0] += 1
        kept = [e for e in kwargs["Entries"] if e not in dropped]
        result = dict(original(**{**kwargs, "Entries": kept})) if kept else {"Successful": []}
        result["Failed"] = [
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"} for e in dropped
        ]
        return result

    sqs.send_message_batch = partial
    return hits


def _event_name(service: str) -> str:
    return str(common.client(service).meta.service_model.service_id.hyphenize())
