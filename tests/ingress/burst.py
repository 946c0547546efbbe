"""A campaign burst through the receiver code: Customer.io-like senders post signed events as fast as they can,
in several processes at once (as Lambda runs receivers side by side; each process has its own moto), then the
forwarder drains every queue into one AEP emulator. Used by the burst test (small) and `make bench` (large).

moto's SQS scans every message it holds on each send (and its ReceiveMessage costs ~3 ms a message), so a queue of
thousands, or draining it through the API, would make moto, not the receiver, the bottleneck. Every 10 events
the worker therefore takes what is queued straight out of moto's store, as Lambda's SQS poller (AWS's code, not
ours) would take it (the time counts in the burst); the forwarder runs on it once the burst is over (so it does
not share the receivers' CPU while they are timed), and what it fails goes round again, as a message whose
visibility timeout ran out would."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sqs.models import sqs_backends

from customerio_aep.ingress.lambdas import forwarder
from tests.aep.chain import build_chain, configured_for
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event
from tests.emulators.customerio.sender import WebhookSender
from tests.ingress.conftest import SIGNING_KEY, moto_ingress, receiver_transport

METRICS = ("sent", "delivered", "opened")
TAKE_EVERY = 10
QUEUE = "events"  # the ingress queue's name in moto_ingress


@dataclass(frozen=True)
class Share:
    """What one worker process sends: `count` events numbered from `first`, starting at `start_at` (epoch s)."""

    webhook_url: str
    dataset_id: str
    first: int
    count: int
    start_at: float


@dataclass(frozen=True)
class WorkerResult:
    """What one worker saw."""

    accepted: int
    refused: int
    started: float
    ended: float
    drained: float
    dead_lettered: int


@dataclass(frozen=True)
class BurstResult:
    """The whole burst: rates, and whether anything was refused, lost or landed twice."""

    events: int
    workers: int
    receive_seconds: float
    drain_seconds: float
    refused: int
    landed: int
    duplicates: int
    dead_lettered: int

    @property
    def events_per_second(self) -> float:
        """Events accepted per second of the send, across workers."""
        return self.events / self.receive_seconds

    @property
    def lost(self) -> int:
        """Accepted events neither in the dataset nor dead-lettered."""
        return self.events - self.refused - (self.landed - self.duplicates) - self.dead_lettered


def _worker(share: Share) -> WorkerResult:
    events = [make_event("email", METRICS[n % 3], n) for n in range(share.first, share.first + share.count)]
    with (
        open(os.devnull, "w") as sink,
        contextlib.redirect_stdout(sink),  # the handlers' log lines
        moto_ingress(share.webhook_url, share.dataset_id, None) as ingress,
    ):
        receiver_transport({}, b"")  # warm: clients and the signing secret (a 401, not counted)
        sender = WebhookSender(receiver_transport, signing_key=SIGNING_KEY)
        taken: list[dict[str, Any]] = []
        time.sleep(max(0.0, share.start_at - time.time()))
        started = time.time()
        for first in range(0, len(events), TAKE_EVERY):
            sender.send_all(events[first : first + TAKE_EVERY])
            _take(taken)
        ended = time.time()
        _forward(taken, rounds=share.count)
        drained = time.time()
        dead = len(ingress.messages(ingress.dlq_url))
    refused = sum(1 for a in sender.attempts if not 200 <= a.status < 300)
    return WorkerResult(len(sender.delivered), refused, started, ended, drained, dead)


def _take(taken: list[dict[str, Any]]) -> None:
    """Take every queued message out of moto's store of the ingress queue, as the forwarder's records."""
    queue = sqs_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].get_queue(QUEUE)
    with queue._messages_lock:
        messages, queue._messages = queue._messages, []
    taken += [{"messageId": m.id, "body": m.body} for m in messages]


def _forward(records: list[dict[str, Any]], rounds: int) -> None:
    """Run the forwarder on the taken records, ten at a time, until none fails."""
    pending = list(records)
    for _ in range(rounds):
        if not pending:
            return
        batch, pending = pending[:10], pending[10:]
        failed = {f["itemIdentifier"] for f in forwarder.handler({"Records": batch}, None)["batchItemFailures"]}
        pending += [r for r in batch if r["messageId"] in failed]
    raise AssertionError(f"{len(pending)} records still failing")


def run_burst(events: int, workers: int = 2) -> BurstResult:
    """Send `events` across `workers` processes at once, drain them, and count what landed in AEP."""
    aep = AepEmulator().start()
    try:
        chain = build_chain(configured_for(aep.stack_config()))
        per = events // workers
        start_at = time.time() + 8.0  # every worker set up (imports, moto) before the first event
        shares = [
            Share(chain["flow"]["webhook_url"], chain["dataset"]["dataset_id"], i * per, per, start_at)
            for i in range(workers)
        ]
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            # Bounded: a worker that dies must fail the run, not hang it.
            results = pool.map_async(_worker, shares).get(timeout=120 + per / 5)
        landed = Counter(r["_id"] for r in aep.records.get(chain["dataset"]["dataset_id"], []))
    finally:
        aep.stop()
    return BurstResult(
        events=per * workers,
        workers=workers,
        receive_seconds=max(r.ended for r in results) - min(r.started for r in results),
        drain_seconds=max(r.drained for r in results) - max(r.ended for r in results),
        refused=sum(r.refused for r in results),
        landed=sum(landed.values()),
        duplicates=sum(n - 1 for n in landed.values()),
        dead_lettered=sum(r.dead_lettered for r in results),
    )
