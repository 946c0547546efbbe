"""The stack's streaming budget: how it is shared among the forwarders, that it reaches them, that a change is in
place, and that direct mode with Profile is warned about (under Pulumi mocks); the pace itself with a test clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest

from customerio_aep import CustomerIoToAep, CustomerIoToAepArgs
from customerio_aep.failures import InvalidArgsError
from customerio_aep.ingress.budget import queue_age_limit, share
from customerio_aep.ingress.lambdas.pace import Pace
from tests.graph import graph
from tests.mocks import RecordingMocks

FORWARDER = "forwarder"


def test_the_share_never_exceeds_the_budget_even_with_jitter_and_uses_most_of_it() -> None:
    for budget in (4, 5, 19, 20, 50, 79, 80, 200, 1_500, 4_000, 5_000, 100_000):
        for concurrency in (2, 10, 80, 1000):
            got = share(budget, concurrency)
            assert 2 <= got.concurrency <= max(2, concurrency) and got.per_invocation >= 1
            assert got.worst_second <= budget, (budget, concurrency, got)
            if budget >= 20:
                assert got.records_per_second >= 0.8 * budget, (budget, concurrency, got)
    assert (share(1_500, 80).concurrency, share(1_500, 80).per_invocation) == (80, 17)  # 1,360/s, at worst 1,440
    assert share(4_000, 80).records_per_second == 3_920
    assert (share(200, 80).concurrency, share(200, 80).per_invocation) == (20, 9)  # a small budget: fewer at once


def test_the_queue_age_alarm_allows_the_backlog_the_budget_explains() -> None:
    assert queue_age_limit(1_500) == 2_206  # a 3,000,000-event campaign drains in 37 min at 1,360/s
    assert queue_age_limit(4_000) == 900 and queue_age_limit(100_000) == 900


class Clock:
    """A test clock: `sleep` moves it, nothing waits."""

    def __init__(self) -> None:
        self.now, self.slept = 100.0, 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_an_invocation_posts_evenly_spaced_and_ends_one_spacing_after_its_last_post() -> None:
    clock = Clock()
    pace = Pace(4, clock=lambda: clock.now, sleep=clock.sleep)
    posted = []
    for _ in range(9):
        pace.wait()
        posted.append(clock.now)
    assert [round(b - a, 6) for a, b in itertools.pairwise(posted)] == [0.25] * 8
    assert sum(1 for t in posted if posted[0] <= t < posted[0] + 1) == 4  # any second holds at most 4 posts
    pace.finish()
    assert clock.now == pytest.approx(posted[-1] + 0.25)
    idle = Pace(4, clock=lambda: clock.now, sleep=clock.sleep)
    before = clock.now
    idle.finish()  # nothing posted: nothing to wait for
    assert clock.now == before


def _forwarder_settings(**args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The forwarder function's environment and its event source's scaling config for these component args."""
    program: Callable[[], object] = lambda: CustomerIoToAep(  # noqa: E731
        "cio", CustomerIoToAepArgs(signing_key="sk", manage_reporting_webhook=False, **args)
    )
    resources = graph(program)
    [function] = [v for k, v in resources.items() if k.endswith("::cio-ingress-forwarder") and "function:Function" in k]
    [mapping] = [v for k, v in resources.items() if "eventSourceMapping" in k]
    return function["environment"]["variables"], mapping["scalingConfig"]


def test_the_budget_reaches_the_forwarders_with_the_profile_default(mocks: RecordingMocks) -> None:
    env, scaling = _forwarder_settings(profile=True)
    assert (env["PACE_PER_SECOND"], scaling["maximumConcurrency"]) == ("17", 80)  # 80 x (17 + 1) = 1,440 <= 1,500
    env, scaling = _forwarder_settings()
    assert (env["PACE_PER_SECOND"], scaling["maximumConcurrency"]) == ("49", 80)  # 4,000 for the data lake


def test_a_budget_change_is_in_place_it_touches_only_the_pace_and_the_concurrency(mocks: RecordingMocks) -> None:
    def build(throughput: float | None) -> dict[str, Any]:
        return graph(
            lambda: CustomerIoToAep(
                "cio",
                CustomerIoToAepArgs(signing_key="sk", manage_reporting_webhook=False, streaming_throughput=throughput),
            )
        )

    before, after = build(None), build(200)
    assert before.keys() == after.keys()  # the same resources: nothing created, nothing deleted
    changed = {urn.rsplit("::", 1)[-1] for urn in before if before[urn] != after[urn]}
    # The function's environment, the event source's scaling config, and the queue-age alarm's threshold: each an
    # in-place update in AWS.
    assert changed == {"cio-ingress-forwarder", "cio-ingress-oldest-message"}
    function = next(u for u in after if u.endswith("function:Function::cio-ingress-forwarder"))
    assert after[function]["environment"]["variables"]["PACE_PER_SECOND"] == "9"


def test_direct_mode_with_profile_warns_once_and_names_the_budget(mocks: RecordingMocks) -> None:
    with mock.patch("pulumi.log.warn") as warn:
        graph(lambda: CustomerIoToAep("cio", CustomerIoToAepArgs(ingress="direct", profile=True,
                                                                 manage_reporting_webhook=False)))  # fmt: skip
    [message] = [c.args[0] for c in warn.call_args_list if "streaming budget" in c.args[0]]
    assert "1,500 records/s" in message and "aws ingress" in message and "\n" not in message
    with mock.patch("pulumi.log.warn") as warn:
        graph(lambda: CustomerIoToAep("cio", CustomerIoToAepArgs(ingress="direct", manage_reporting_webhook=False)))
    assert not [c for c in warn.call_args_list if "streaming budget" in c.args[0]]


def test_a_budget_below_four_is_refused_naming_the_key() -> None:
    with pytest.raises(InvalidArgsError, match=r"streaming_throughput is 3; .*streamingThroughput"):
        CustomerIoToAep("cio", CustomerIoToAepArgs(signing_key="sk", streaming_throughput=3))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_backlog_drains_at_the_budget_and_nothing_waits_its_way_into_the_dlq() -> None:
    from tests.ingress.backlog import drain_backlog

    # A budget below what moto lets the forwarders do here (about 50 records/s), so the pace is what holds them; its
    # quarter-second spacing leaves room for a loaded test machine's scheduling delays.
    result = drain_backlog(events=100, budget=10)
    assert (result.concurrency, result.per_invocation) == (2, 4)  # the default 80 at once, lowered to the budget
    assert result.peak_per_second <= 10  # in any one second at AEP's inlet, whatever the backlog
    assert (result.lost, result.duplicates, result.dead_lettered) == (0, 0, 0)
    assert result.landed == 100
    assert result.seconds >= 100 / 8 - 1  # it waited in the queue instead of bursting through
