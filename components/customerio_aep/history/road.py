"""What a road into AEP is to a backfill run, and the outcomes it reports for each event."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from customerio_aep.history.local_mapping import LocalMapping
    from customerio_aep.history.pages import Mapped

SENT = "sent"
"""The event is in AEP: the inlet or the queue took it (stream), or its batch succeeded (batch)."""
STAGED = "staged"
"""The event's record waits in a batch of the checkpoint (batch road): not sent yet, never read again."""
REJECTED = "rejected: "
"""Prefix of an event refused for good, followed by the reason."""
TAKEN = "taken"
"""The event was sent, staged or refused by an earlier run: not taken again (not recorded again either)."""


class BackfillStopped(RuntimeError):
    """The run stopped before the end of its range (interrupted, or the destination unavailable); rerun to resume.
    The second argument, when given, is the (event_id, outcome) list settled before it stopped."""


class Road(Protocol):
    """Where history events go: the bulk road (batches) or the stream road (the live events' road)."""

    name: str
    """What the report calls it, e.g. `AEP's Batch Ingestion API`."""
    batches: list[dict[str, Any]]
    """The batches this run settled (id, records, status, and Catalog's errors for a failed one); none when streamed."""
    failed: bool
    """Whether a batch failed in this run (the command then exits 1)."""

    @property
    def mapping(self) -> LocalMapping | None:
        """The mapping this road's records are made with, in the page processes (`stage` takes them); None: the road
        takes the events (`send`)."""
        ...

    def recover(self) -> list[tuple[str, str]]:
        """Settle what an earlier, interrupted run left half done; the outcomes settled now (recorded already)."""
        ...

    def send(self, events: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Take events; (event_id, outcome) for each one sent, staged or refused for good. Raises BackfillStopped
        when some could not be taken now."""
        ...

    def stage(self, mapped: Mapped) -> list[tuple[str, str]]:
        """Take a page's records but those of events an earlier run took; (event_id, outcome) for each event."""
        ...

    def landed(self) -> list[tuple[str, str]]:
        """What landed since it was last asked, while the run goes on; the outcomes (recorded already)."""
        ...

    def finish(self, progress: Callable[[], None]) -> list[tuple[str, str]]:
        """Send what is still held and wait until AEP has it; the outcomes settled now (recorded already)."""
        ...

    def look(self, events: list[dict[str, Any]]) -> None:
        """A dry run shows the road the events it would send (nothing is sent)."""
        ...

    def plan(self, events: int, pages: int) -> list[str]:
        """Lines for a dry run: what sending `events` would take on this road."""
        ...
