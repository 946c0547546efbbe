"""A campaign burst through the receiver code (two processes, moto): nothing refused, then drained by the
forwarder with nothing lost and nothing landed twice. The rate is printed by `make bench` (full size), never
asserted here."""

from __future__ import annotations

import pytest

from tests.ingress.burst import run_burst


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_burst_is_accepted_then_drained_with_nothing_lost_or_doubled() -> None:
    result = run_burst(events=1000, workers=2)
    assert result.refused == 0
    assert (result.lost, result.duplicates, result.dead_lettered) == (0, 0, 0)
    assert result.landed == 1000
