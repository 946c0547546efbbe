"""The stack's streaming budget (records/s into AEP, help/landing/license-usage-and-guardrails/capacity.md) shared out
among the forwarders.

Mechanism: at most `concurrency` forwarders run at once (the SQS event source's maximum concurrency, so a backlog
waits in the queue, unreceived, instead of being received and returned), and each posts at most `per_invocation`
records a second, spaced evenly, and returns no earlier than one spacing after its last post (lambdas/pace.py). So
each concurrency slot posts at most `per_invocation` a second, whichever container runs it; with one more a slot for
the network's jitter, all of them together stay within the budget in any second. Retries of a 429 or 5xx are posts
too."""

from __future__ import annotations

from dataclasses import dataclass

PROFILE_BUDGET = 1_500
"""Records/s: the streaming capacity into Profile Adobe licenses an org by default, shared by every sandbox and
streaming source (`help/landing/license-usage-and-guardrails/capacity.md`); also the streaming sources' limit when
the data goes to Profile (`help/ingestion/guardrails.md`)."""
DATA_LAKE_BUDGET = 4_000
"""Records/s: the low end of 4,000-5,000 requests/s the streaming sources take into the data lake
(`help/ingestion/guardrails.md`, "Guardrails for streaming sources")."""
PLANNING_CAMPAIGN_EVENTS = 3_000_000
"""The campaign the defaults are planned for (docs/ingress.md): 1,000,000 recipients, 3 events each at send."""
DEFAULT_MAX_CONCURRENCY = 80
"""IngressArgs.forwarder_max_concurrency's default."""
MIN_CONCURRENCY = 2
"""An SQS event source's maximum concurrency is at least 2."""
MIN_BUDGET = 4
"""Two forwarders (the fewest an SQS event source runs) at one record a second each, with the margin for the
network's jitter (see `share`)."""


def stack_budget(given: float | None, profile: bool) -> float:
    """A stack's budget: the one it sets, else Adobe's default Profile capacity or the data lake's low end."""
    return float(given) if given else float(PROFILE_BUDGET if profile else DATA_LAKE_BUDGET)


@dataclass(frozen=True)
class Share:
    """How the forwarders split a budget: how many run at once, and each one's records a second."""

    concurrency: int
    per_invocation: int

    @property
    def records_per_second(self) -> int:
        """What the forwarders together post each second while a backlog drains."""
        return self.concurrency * self.per_invocation

    @property
    def worst_second(self) -> int:
        """The most posts AEP can see in one second: one more of each forwarder, bunched by the network."""
        return self.concurrency * (self.per_invocation + 1)


def share(budget: float, max_concurrency: int) -> Share:
    """The forwarders' share of `budget`. Posts of one slot leave at least 1/`per_invocation` s apart, but the network
    can bunch them on the way, so a one-second window at AEP may catch one more of each slot: `concurrency` and
    `per_invocation` are chosen so that even `concurrency * (per_invocation + 1)` stays within the budget. A slot
    gets at least 10 records a second's worth of the budget (fewer forwarders at once for a small budget), so that
    margin costs at most a tenth of it."""
    concurrency = max(MIN_CONCURRENCY, min(max_concurrency, int(budget) // 10))
    return Share(concurrency, max(1, int(budget) // concurrency - 1))


def queue_age_limit(budget: float, max_concurrency: int = DEFAULT_MAX_CONCURRENCY) -> int:
    """The oldest a queued event may be before something is wrong: the time the forwarders' share of the budget needs
    to drain the planning campaign, and never under 15 minutes. A campaign's ordinary backlog stays under it
    (`benchmarks.capacity`: 27 minutes at most for a Profile stack, whose limit is 37)."""
    return max(900, round(PLANNING_CAMPAIGN_EVENTS / share(budget, max_concurrency).records_per_second))
