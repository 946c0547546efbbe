"""Ingress handler figures: receiver throughput and latency, forwarder batch vs one-by-one, cold start, sizes.

Runs the real handler code against moto (SQS, DynamoDB, S3, Secrets Manager) and the AEP emulator's inlet.
moto is much slower than SQS itself, so the share of time outside the SQS call is the figure to compare.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from customerio_aep.ingress.lambdas import common, forwarder
from customerio_aep.ingress.package import LAMBDAS, MODULES, PACKAGE
from tests.aep.chain import build_chain, configured_for
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event
from tests.engine.harness import ROOT
from tests.ingress.aws_faults import count_calls
from tests.ingress.conftest import Ingress, moto_ingress, post_event


def package_zip() -> bytes:
    """The deployment package as Pulumi zips it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for module in MODULES:
            z.write(LAMBDAS / module, f"{PACKAGE}/{module}")
    return buffer.getvalue()


def import_seconds(module: str, package_dir: Path) -> float:
    """Median time to import a handler module in a fresh interpreter, as a Lambda cold start does."""
    code = f"import time; t = time.perf_counter(); import {PACKAGE}.{module}; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], cwd=package_dir, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    return statistics.median(runs)


@contextlib.contextmanager
def quiet_handlers() -> Iterator[None]:
    """Discard what the handlers write to stdout (their JSON log lines), so the benchmark prints figures only;
    the lines are still built, as in Lambda, so their cost stays in the figures."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def receiver(ingress: Ingress, size: int, n: int = 300) -> str:
    sqs_seconds = 0.0
    sqs = common.client("sqs")
    original = sqs.send_message_batch

    def timed(**kwargs: Any) -> Any:
        nonlocal sqs_seconds
        started = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            sqs_seconds += time.perf_counter() - started

    sqs.send_message_batch = timed
    base = len(json.dumps(make_event("email", "sent", 0)))
    durations = []
    for i in range(n):
        event = make_event("email", "sent", i, pad=max(0, size - base))
        started = time.perf_counter()
        assert post_event(event)["statusCode"] == 200
        durations.append(time.perf_counter() - started)
        if i % 50 == 49:
            ingress.messages(ingress.queue_url)  # keep moto's queue short: its scans grow with it
    sqs.send_message_batch = original
    total = sum(durations)
    q = statistics.quantiles(durations, n=100)
    return (
        f"receiver {size // 1024:>2} KB: {n / total:7.0f} events/s  p50 {q[49] * 1000:6.2f} ms  "
        f"p99 {q[98] * 1000:6.2f} ms  outside the SQS call {100 * (1 - sqs_seconds / total):4.1f}%"
    )


def forwarder_batch(ingress: Ingress, rounds: int = 7) -> str:
    """One 10-message invocation against one invocation per message, the inlet adding 50 ms to each post;
    the median of several rounds, each with new event ids (a repeated id would be skipped as a duplicate)."""

    def records(first: int) -> list[dict[str, str]]:
        return [
            {"messageId": f"m{first + i}", "body": json.dumps(make_event("email", "sent", first + i))}
            for i in range(10)
        ]

    batch, one_by_one = [], []
    for r in range(rounds):
        started = time.perf_counter()
        assert forwarder.handler({"Records": records(10_000 + 20 * r)}, None)["batchItemFailures"] == []
        batch.append(time.perf_counter() - started)
        started = time.perf_counter()
        for record in records(10_010 + 20 * r):
            assert forwarder.handler({"Records": [record]}, None)["batchItemFailures"] == []
        one_by_one.append(time.perf_counter() - started)
    b, s = statistics.median(batch), statistics.median(one_by_one)
    return (
        f"forwarder, 10-message batch, inlet +50 ms (median of {rounds}): {10 / b:6.1f} events/s in one "
        f"invocation vs {10 / s:6.1f} events/s one by one ({s / b:.1f}x faster)"
    )


def forged_flood(n: int = 1000) -> str:
    """Forged requests on a warm receiver: how many Secrets Manager reads they cause (botocore counts them)."""
    reads = count_calls("secretsmanager", "GetSecretValue")
    started = time.perf_counter()
    refused = sum(post_event(make_event("email", "sent", i), signature="0" * 64)["statusCode"] == 401 for i in range(n))
    elapsed = time.perf_counter() - started
    return (
        f"forged flood: {refused} of {n} forged requests refused in {elapsed:.1f} s "
        f"({n / elapsed:.0f}/s), {reads[0]} Secrets Manager reads"
    )


@contextlib.contextmanager
def remote_aep(inlet_latency: float) -> Iterator[str]:
    """The AEP emulator in its own process (as AEP is remote), so its work does not share our GIL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.aep", "--port", str(port), "--inlet-latency", str(inlet_latency)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # the "AEP emulator on ..." line: it is serving
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    """Print every ingress figure."""
    with remote_aep(inlet_latency=0.05) as url:
        chain = build_chain(configured_for(AepEmulator().stack_config(url=url)))
        with moto_ingress(chain["flow"]["webhook_url"], chain["dataset"]["dataset_id"], None) as ingress:
            with quiet_handlers():
                started = time.perf_counter()
                post_event(make_event("email", "sent", 99_999))  # first call: clients and the secret are fetched
                first_call = time.perf_counter() - started
                figures = [receiver(ingress, size) for size in (1024, 16 * 1024)]
                figures += [forwarder_batch(ingress), forged_flood()]
            print("\n".join(figures))
    zipped = package_zip()
    with tempfile.TemporaryDirectory() as tmp:
        zipfile.ZipFile(io.BytesIO(zipped)).extractall(tmp)
        receiver_import = import_seconds("receiver", Path(tmp))
        forwarder_import = import_seconds("forwarder", Path(tmp))
    print(
        f"cold start: import {PACKAGE}.receiver {receiver_import * 1000:.0f} ms, "
        f"{PACKAGE}.forwarder {forwarder_import * 1000:.0f} ms (boto3 included); first receiver call "
        f"{first_call * 1000:.0f} ms (client set-up and secret fetch, against moto)"
    )
    print(f"deployment package: {len(zipped)} bytes zipped, shared by both functions (stdlib + runtime boto3 only)")
