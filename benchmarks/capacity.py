"""A capacity model of the aws ingress for a campaign within the stack's streaming budget: peak receiver
concurrency, what would be throttled, the rate into AEP (never above the budget), queue depth and oldest-message age
over time, when AEP has accepted everything, and the AWS cost per million events.

    python -m benchmarks.capacity [--streaming-throughput 1500] [--recipients 1000000] [--events 3]
                                  [--send-minutes 10] [--tail-events 0.5] [--tail-hours 6] [--inlet-latency-ms 100]
                                  [--json]

The handlers' own costs are measured in this run (the real code against moto and the AEP emulator); AWS's and
AEP's latencies and limits are the named constants below, with where they come from. Prints figures; asserts
nothing. For the defaults (a Profile stack's 1,500 records/s, a 1,000,000-recipient campaign of 3 events each sent
in 10 minutes) AEP accepts the send in about 33 minutes: the queue holds the burst and the budget sets the pace.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from benchmarks.ingress import remote_aep
from customerio_aep.ingress.budget import DATA_LAKE_BUDGET, PROFILE_BUDGET, queue_age_limit, share
from customerio_aep.ingress.component import IngressArgs
from customerio_aep.ingress.lambdas import common, forwarder
from tests.aep.chain import build_chain, configured_for
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event
from tests.ingress.conftest import moto_ingress, post_event

# -- published limits (AWS service quotas and Adobe guardrails; defaults per account and region) ----------------
API_GATEWAY_RPS = 10_000  # HTTP API, account-level throttle, requests/s (burst 5,000): AWS API Gateway quotas
LAMBDA_ACCOUNT_CONCURRENCY = 1_000  # default concurrent executions per region: AWS Lambda quotas
LAMBDA_SCALE_PER_10S = 1_000  # each function adds up to 1,000 concurrent executions every 10 s (AWS, 2023-11)
SQS_ESM_SCALE_PER_MINUTE = 300  # an SQS event source adds up to 300 concurrent pollers a minute (AWS, 2023-11)
# AEP's streaming capacity (Adobe's guides below). The budget's defaults are ingress/budget.py's PROFILE_BUDGET (1,500
# records/s into Profile per org by default: help/landing/license-usage-and-guardrails/capacity.md and
# help/ingestion/guardrails.md) and DATA_LAKE_BUDGET (4,000-5,000 requests/s into the data lake for streaming sources:
# help/ingestion/guardrails.md). The 10,000 messages/s of the streaming ingestion overview is the HTTP API's, not the
# route this source takes: it is not a limit this stack plans with.
STREAMING_SOURCES_DATA_LAKE_MAX = 5_000

# -- latencies we cannot measure here (assumptions, conservative) -----------------------------------------------
SQS_SEND_MS = 10.0  # SendMessageBatch from Lambda in-region
DYNAMODB_WRITE_MS = 6.0  # a conditional PutItem / UpdateItem in-region
LAMBDA_PLATFORM_LOG_BYTES = 260  # START, END and REPORT lines per invocation
API_ACCESS_LOG_BYTES = 110  # one access-log line in this stack's format

# -- AWS list prices, us-east-1, USD, as published on AWS's pricing pages (2025-06); verify before budgeting -------
PRICES_DATE = "2025-06"
API_GATEWAY_PER_MILLION = 1.00  # HTTP API requests, first 300 million a month
LAMBDA_PER_MILLION = 0.20  # requests
LAMBDA_ARM_PER_GB_SECOND = 0.0000133334  # arm64 duration, first 7.5 billion GB-s a month
SQS_PER_MILLION = 0.40  # standard queue requests (each 64 KB chunk), after the free tier
DYNAMODB_PER_MILLION_WRITES = 0.625  # on-demand write request units (after the 2024-11 reduction)
CLOUDWATCH_LOGS_PER_GB = 0.50  # standard log ingestion
DATA_OUT_PER_GB = 0.09  # to the internet (the AEP inlet), first 10 TB a month

STEP_SECONDS = 10
# Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB (AWS Lambda docs). The handlers'
# CPU time measured here on a full core is scaled by this to their memory's share.
FULL_VCPU_MB = 1769


@dataclass(frozen=True)
class Campaign:
    """A campaign's shape: events at send time over the send window, then an open/click tail decaying over hours."""

    recipients: int
    events: float
    send_minutes: float
    tail_events: float
    tail_hours: float

    def arrivals(self, t: float) -> float:
        """Events per second arriving at `t` seconds after the send started."""
        send = self.recipients * self.events / (self.send_minutes * 60) if t < self.send_minutes * 60 else 0.0
        # The tail decays exponentially with a time constant of a quarter of its length (~98% inside it).
        tau = self.tail_hours * 3600 / 4
        tail = self.recipients * self.tail_events / tau * math.exp(-t / tau)
        return send + tail


@dataclass(frozen=True)
class Costs:
    """What the handlers cost, measured in this run."""

    receiver_code_ms: float
    """CPU ms per request on a full core."""
    forwarder_code_ms: float
    """CPU ms per batch on a full core."""
    log_bytes_per_event: float
    event_bytes: float


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        yield buffer


def measure(n: int = 300) -> Costs:
    """The receiver's and forwarder's own CPU time (the process's, minus what the AWS calls spend in moto; AEP is
    another process) and their log bytes per event."""
    with remote_aep(inlet_latency=0.0) as url:
        chain = build_chain(configured_for(AepEmulator().stack_config(url=url)))
        with moto_ingress(chain["flow"]["webhook_url"], chain["dataset"]["dataset_id"], None):
            in_aws = _time_aws_calls()
            with _captured():  # its log line is not a figure
                post_event(make_event("email", "sent", 10**6))  # warm: clients and the secret
            with _captured() as receiver_logs:
                in_aws[0], started = 0.0, time.process_time()
                for i in range(n):
                    post_event(make_event("email", "sent", i))
                receiver_ms = (time.process_time() - started - in_aws[0]) * 1000 / n
            sqs = common.client("sqs")
            queue = sqs.get_queue_url(QueueName="events")["QueueUrl"]
            batches = []
            with _captured() as forwarder_logs:
                while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
                    records = [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]
                    in_aws[0], started = 0.0, time.process_time()
                    forwarder.handler({"Records": records}, None)
                    batches.append((time.process_time() - started - in_aws[0]) * 1000)
                    for m in messages:
                        sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
            log_bytes = (len(receiver_logs.getvalue()) + len(forwarder_logs.getvalue())) / n
    event_bytes = len(json.dumps(make_event("email", "sent", 1)))
    return Costs(receiver_ms, sorted(batches)[len(batches) // 2], log_bytes, event_bytes)


def _time_aws_calls() -> list[float]:
    """Add the CPU time each AWS call spends in moto (from botocore's before-send to after-call, per thread) to
    the returned cell: that work is AWS's, not the handler's."""
    total, started = [0.0], {}

    def before(**kwargs: Any) -> None:
        started[threading.get_ident()] = time.thread_time()

    def after(**kwargs: Any) -> None:
        begun = started.pop(threading.get_ident(), None)
        if begun is not None:
            total[0] += time.thread_time() - begun

    for service in ("sqs", "dynamodb", "secretsmanager", "s3"):
        events = common.client(service).meta.events
        events.register("before-send.*.*", before)
        events.register("after-call.*.*", after)
    return total


def receiver_ms(costs: Costs, memory_mb: int) -> float:
    """A receiver invocation's duration in Lambda: its CPU at the memory's share of a core, then the SQS send."""
    return costs.receiver_code_ms * FULL_VCPU_MB / memory_mb + SQS_SEND_MS


def forwarder_batch_ms(costs: Costs, memory_mb: int, inlet_ms: float) -> float:
    """A forwarder invocation's duration: its CPU, then per record (records run concurrently) the dedupe claim,
    the inlet post and the settle."""
    return costs.forwarder_code_ms * FULL_VCPU_MB / memory_mb + 2 * DYNAMODB_WRITE_MS + inlet_ms


@dataclass
class Outcome:
    """The model's answer for one budget."""

    budget: float
    forwarder_rate: float
    """What the forwarders post each second while a backlog drains (their share of the budget, or what their
    concurrency and latency allow, whichever is less)."""
    peak_rate: float
    peak_depth: float
    peak_age_s: float
    send_accepted_at_s: float | None
    depth_by_minute: list[tuple[int, float, float]]
    """(minute, queue depth, oldest message's age in seconds)."""


def simulate(campaign: Campaign, budget: float, concurrency: int, batch: int, batch_ms: float) -> Outcome:
    """Queue depth and oldest age in 10-second steps: arrivals in, forwarders (ramping up as SQS scales them, each
    paced to its share of the budget) out, first in first out."""
    split = share(budget, concurrency)
    per_forwarder = min(batch / (batch_ms / 1000), split.per_invocation)
    horizon = campaign.send_minutes * 60 + campaign.tail_hours * 3600
    send_total = campaign.recipients * campaign.events
    depth = accepted = arrived = 0.0
    pollers, peak_depth, peak_age, peak_rate, send_done_at = 5.0, 0.0, 0.0, 0.0, None
    arrivals: list[tuple[float, float]] = [(0.0, 0.0)]  # (time, events arrived by then)
    by_minute: list[tuple[int, float, float]] = []
    t = 0
    while t < horizon:
        arriving = campaign.arrivals(t) * STEP_SECONDS
        wanted = math.ceil((depth + arriving) / batch)
        pollers = min(split.concurrency, max(5.0, min(wanted, pollers + SQS_ESM_SCALE_PER_MINUTE * STEP_SECONDS / 60)))
        rate = pollers * per_forwarder
        out = min(depth + arriving, rate * STEP_SECONDS)
        depth, accepted, arrived = depth + arriving - out, accepted + out, arrived + arriving
        t += STEP_SECONDS
        arrivals.append((float(t), arrived))
        peak_rate = max(peak_rate, out / STEP_SECONDS)
        peak_depth = max(peak_depth, depth)
        age = t - _arrived_at(arrivals, accepted) if depth > 1 else 0.0
        peak_age = max(peak_age, age)
        if send_done_at is None and accepted >= send_total * 0.9999:
            send_done_at = t
        if t % 60 == 0:
            by_minute.append((t // 60, depth, age))
    return Outcome(budget, split.concurrency * per_forwarder, peak_rate, peak_depth, peak_age, send_done_at, by_minute)


def _arrived_at(arrivals: list[tuple[float, float]], count: float) -> float:
    """When the `count`-th event arrived (the oldest one still queued once `count` have been accepted)."""
    for (t0, n0), (t1, n1) in itertools.pairwise(arrivals):
        if n1 > count:
            return t0 + (t1 - t0) * (count - n0) / (n1 - n0) if n1 > n0 else t0
    return arrivals[-1][0]


def cost_per_million(costs: Costs, args: IngressArgs, inlet_ms: float) -> dict[str, float]:
    """USD per million events, by service."""
    batch = args.forwarder_batch_size
    receiver_gb_s = receiver_ms(costs, args.receiver_memory_mb) / 1000 * args.receiver_memory_mb / 1024
    forwarder_gb_s = (
        forwarder_batch_ms(costs, args.forwarder_memory_mb, inlet_ms) / 1000 / batch * args.forwarder_memory_mb / 1024
    )
    log_gb = (costs.log_bytes_per_event + API_ACCESS_LOG_BYTES + LAMBDA_PLATFORM_LOG_BYTES * (1 + 1 / batch)) / 1e9
    return {
        "API Gateway": API_GATEWAY_PER_MILLION,
        "Lambda": LAMBDA_PER_MILLION * (1 + 1 / batch)
        + 1e6 * (receiver_gb_s + forwarder_gb_s) * LAMBDA_ARM_PER_GB_SECOND,
        # send (one per request), receive and delete (one each per batch)
        "SQS": SQS_PER_MILLION * (1 + 2 / batch),
        "DynamoDB": DYNAMODB_PER_MILLION_WRITES * 2,  # claim and settle
        "CloudWatch Logs": 1e6 * log_gb * CLOUDWATCH_LOGS_PER_GB,
        "data out": 1e6 * costs.event_bytes / 1e9 * DATA_OUT_PER_GB,
    }


def report(campaign: Campaign, costs: Costs, inlet_ms: float, budget: float) -> dict[str, Any]:
    """The model for the campaign at `budget` (and, for comparison, at the other defaults): printed, and returned."""
    defaults = IngressArgs(signing_key=None, inlet_url="", streaming_throughput=budget)
    peak_rps = max(campaign.arrivals(t) for t in range(0, int(campaign.send_minutes * 60), STEP_SECONDS))
    receiver_duration = receiver_ms(costs, defaults.receiver_memory_mb)
    batch_ms = forwarder_batch_ms(costs, defaults.forwarder_memory_mb, inlet_ms)
    receiver_concurrency = peak_rps * receiver_duration / 1000
    send_total = campaign.recipients * campaign.events
    o = simulate(campaign, budget, defaults.forwarder_max_concurrency, defaults.forwarder_batch_size, batch_ms)
    split = share(budget, defaults.forwarder_max_concurrency)
    prices = cost_per_million(costs, defaults, inlet_ms)
    alarm_s = queue_age_limit(budget)
    paced_batch_s = defaults.forwarder_batch_size / split.per_invocation
    figures = {
        "aep_budget_rps": budget,
        "forwarders": split.concurrency,
        "per_forwarder_rps": split.per_invocation,
        "peak_aep_rps": round(o.peak_rate, 1),
        "peak_campaign_rps": round(peak_rps, 1),
        "peak_queue_depth": round(o.peak_depth),
        "accepted_minutes": round(o.send_accepted_at_s / 60, 1) if o.send_accepted_at_s else None,
        "max_queue_age_minutes": round(o.peak_age_s / 60, 1),
        "queue_age_alarm_minutes": round(alarm_s / 60, 1),
        "paced_batch_seconds": round(paced_batch_s, 2),
        "forwarder_timeout_seconds": defaults.forwarder_timeout_seconds,
        "cost_per_million": round(sum(prices.values()), 2),
    }
    print(
        f"\ncapacity model: {campaign.recipients:,} recipients x {campaign.events:g} events in "
        f"{campaign.send_minutes:g} min = {send_total:,.0f} events, then {campaign.tail_events:g} more per "
        f"recipient over {campaign.tail_hours:g} h; streaming budget {budget:,.0f} records/s; AEP inlet latency "
        f"{inlet_ms:g} ms (assumed)"
    )
    print(
        f"  measured here (CPU on a full core): receiver {costs.receiver_code_ms:.2f} ms/request, forwarder "
        f"{costs.forwarder_code_ms:.2f} ms/batch; logs {costs.log_bytes_per_event:.0f} B/event. In Lambda: receiver "
        f"({defaults.receiver_memory_mb} MB) {receiver_duration:.1f} ms/request, forwarder "
        f"({defaults.forwarder_memory_mb} MB) {batch_ms:.0f} ms/batch"
    )
    print(
        f"  peak {peak_rps:,.0f} requests/s (API Gateway account limit {API_GATEWAY_RPS:,}/s): "
        + ("THROTTLED" if peak_rps > API_GATEWAY_RPS else "not throttled")
    )
    ramp_s = 10 * math.ceil(receiver_concurrency / LAMBDA_SCALE_PER_10S)
    lambda_total = receiver_concurrency + split.concurrency
    print(
        f"  receiver: peak concurrency {receiver_concurrency:,.0f}, reached within "
        f"{ramp_s} s of scaling; with the forwarders {lambda_total:,.0f} of the account's "
        f"{LAMBDA_ACCOUNT_CONCURRENCY:,}: "
        + ("THROTTLED" if lambda_total > LAMBDA_ACCOUNT_CONCURRENCY else "not throttled")
    )
    hours = campaign.send_minutes / 60 + campaign.tail_hours
    done = f"{o.send_accepted_at_s / 60:.1f} min" if o.send_accepted_at_s else f"over {hours:g} h (not modelled)"
    print(
        f"  forwarders: {split.concurrency} at once x {split.per_invocation} records/s = {o.forwarder_rate:,.0f} "
        f"records/s while a backlog drains; peak into AEP {o.peak_rate:,.0f}/s (budget {budget:,.0f}); the send is "
        f"accepted by AEP after {done}; peak queue {o.peak_depth:,.0f}, oldest message {o.peak_age_s / 60:.1f} min"
    )
    shown = [(m, d, a) for m, d, a in o.depth_by_minute if m <= 10 or (m % 5 == 0 and m <= 60) or m in (120, 240, 360)]
    print("  queue (minute: events, oldest age): " + ", ".join(f"{m}: {d:,.0f} {a / 60:.0f}m" for m, d, a in shown))
    print(
        f"  waiting is not failing: a waiting event is not received (the event source's maximum concurrency), so its "
        f"receive count stays 0; a paced batch takes {paced_batch_s:.1f} s of the {defaults.forwarder_timeout_seconds} "
        f"s timeout; the oldest wait ({o.peak_age_s / 60:.0f} min) is far inside the queue's "
        f"{defaults.queue_retention_seconds // 86400} days and under the queue-age alarm's {alarm_s / 60:.0f} min"
    )
    others = []
    for other in sorted({150.0, PROFILE_BUDGET, DATA_LAKE_BUDGET, STREAMING_SOURCES_DATA_LAKE_MAX} - {budget}):
        x = simulate(campaign, other, defaults.forwarder_max_concurrency, defaults.forwarder_batch_size, batch_ms)
        took = f"{x.send_accepted_at_s / 60:.0f} min" if x.send_accepted_at_s else f"over {hours:g} h (not modelled)"
        others.append(f"{other:,.0f}/s: accepted in {took}, oldest so far {x.peak_age_s / 60:.0f} min")
    print("  at other budgets: " + "; ".join(others))
    print(
        f"  AWS cost per million events (list prices us-east-1, {PRICES_DATE}): ${sum(prices.values()):.2f} = "
        + ", ".join(f"{k} ${v:.2f}" for k, v in prices.items())
    )
    return figures


def main(argv: list[str] | None = None) -> None:
    """Measure, then model the campaign given on the command line (defaults: the target campaign)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.capacity", description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--events", type=float, default=3, help="events per recipient at send (sent, delivered, ...)")
    parser.add_argument("--send-minutes", type=float, default=10)
    parser.add_argument("--tail-events", type=float, default=0.5, help="opens and clicks per recipient afterwards")
    parser.add_argument("--tail-hours", type=float, default=6)
    parser.add_argument("--inlet-latency-ms", type=float, default=100, help="AEP inlet answer time (assumed)")
    parser.add_argument("--streaming-throughput", type=float, default=PROFILE_BUDGET,
                        help="the stack's streaming budget, records/s (default: a Profile stack's)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the text")
    args = parser.parse_args(argv)
    campaign = Campaign(args.recipients, args.events, args.send_minutes, args.tail_events, args.tail_hours)
    costs = measure()
    if args.json:
        with _captured():
            figures = report(campaign, costs, args.inlet_latency_ms, args.streaming_throughput)
        print(json.dumps(figures))
    else:
        report(campaign, costs, args.inlet_latency_ms, args.streaming_throughput)


if __name__ == "__main__":
    main()
