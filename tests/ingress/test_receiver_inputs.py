"""Property tests of what reaches the receiver: any body and any headers get an HTTP answer (the function never fails,
which API Gateway would turn into a 500 that Customer.io sends again and again). A body signed with the key is kept,
queued or quarantined, never lost; anything else is refused with 401 and kept nowhere."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from customerio_aep.ingress.lambdas import receiver
from tests.ingress.conftest import Ingress, api_event

header_values = st.text(max_size=40) | st.sampled_from(("", "nan", "inf", "-1", "1e400", "99999999999999999999",
                                                         "v0=", "v0=zz", "sha256=" + "0" * 64))  # fmt: skip
bodies = st.binary(max_size=300) | st.sampled_from((b"[]", b"{}", b"null", b"[1, 2]", b'{"event_id": 5}',
                                                    b'"' + b"x" * 10 + b'"', b"[" * 1200 + b"]" * 1200))  # fmt: skip


def _kept(ingress: Ingress) -> int:
    """Events queued plus bodies quarantined (each read once: the next example starts empty)."""
    import boto3

    s3 = boto3.client("s3")
    quarantined = s3.list_objects_v2(Bucket=ingress.bucket).get("Contents", [])
    for item in quarantined:
        s3.delete_object(Bucket=ingress.bucket, Key=item["Key"])
    return len(ingress.messages(ingress.queue_url)) + len(quarantined)


@given(body=bodies, signed=st.booleans(), as_base64=st.booleans())
@example(body=b"[" * 1200 + b"]" * 1200, signed=True, as_base64=False)  # found: a 503 for ever (RecursionError)
@example(body=b"\xff\xfe not utf-8", signed=True, as_base64=True)
def test_any_body_is_answered_and_a_signed_one_is_kept(
    ingress: Ingress, body: bytes, signed: bool, as_base64: bool
) -> None:
    _kept(ingress)
    as_base64 = as_base64 or not _utf8(body)  # API Gateway passes a body that is not text as base64
    event = api_event(body, base64=as_base64) if signed else api_event(body, base64=as_base64, signature="v0=nope")
    status = receiver.handler(event, None)["statusCode"]
    if not signed:
        assert status == 401 and _kept(ingress) == 0
    elif body.strip() in (b"[]",):  # a batch of no events: nothing to keep
        assert status == 200 and _kept(ingress) == 0
    else:
        assert status in (200, 202) and _kept(ingress) >= 1


@given(headers=st.dictionaries(st.sampled_from(("x-cio-timestamp", "X-CIO-Signature", "content-type", "x-other")),
                               header_values, max_size=4),
       raw_body=st.none() | st.text(max_size=30) | st.integers(),
       flag=st.none() | st.booleans() | st.text(max_size=5))  # fmt: skip
@example(headers={"x-cio-timestamp": "nan", "x-cio-signature": "v0=00"}, raw_body="{}", flag=False)
@example(headers={"x-cio-timestamp": str(int(time.time())), "x-cio-signature": "zz"}, raw_body="!!", flag=True)
def test_any_headers_and_any_event_shape_are_refused_not_failed(
    ingress: Ingress, headers: dict[str, str], raw_body: Any, flag: Any
) -> None:
    _kept(ingress)
    event = {"version": "2.0", "routeKey": "POST /webhook", "headers": headers, "body": raw_body,
             "isBase64Encoded": flag}  # fmt: skip
    assert receiver.handler(event, None)["statusCode"] in (400, 401) and _kept(ingress) == 0


def _utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True
