"""How a backfill run reads to a person: the summary, and the live progress line."""

from __future__ import annotations

from customerio_aep.customerio.app_api import REQUESTS_PER_SECOND
from customerio_aep.history.run import BackfillReport, iso
from customerio_aep.history.stream_road import duration


def render(report: BackfillReport) -> str:
    """The human-readable summary: range, road, counts per object type and metric, what cannot be sent, batches."""
    mode = "" if report.applied else "DRY RUN (nothing sent; add --apply): "
    lines = [
        f"{mode}history from {iso(report.since)} to {iso(report.until)} (the live stream's start) by "
        f"{report.destination}",
        f"  {report.deliveries:,} deliveries read in {report.pages:,} App API pages"
        + (" (resumed)" if report.resumed_from_page else "")
        + f", {report.slices} time slice(s) read at once, {_pace(report)}",
    ]
    total = sum(report.events.values())
    verb = "sent" if report.applied else "to send"
    from_earlier = report.applied and bool(report.batches) and report.sent > report.staged
    earlier = " (with records an interrupted run had staged)" if from_earlier else ""
    lines.append(f"  {total:,} events in the range; {report.already_sent:,} taken by earlier runs; {verb}: "
                 f"{report.sent if report.applied else report.to_send:,}{earlier}")  # fmt: skip
    by_type: dict[str, list[str]] = {}
    for kind, count in sorted(report.events.items()):
        object_type, metric = kind.split(" ", 1)
        by_type.setdefault(object_type, []).append(f"{metric} {count:,}")
    lines += [f"    {object_type:8} {', '.join(metrics)}" for object_type, metrics in by_type.items()]
    if report.skipped:
        lines.append(f"  cannot be sent: {sum(report.skipped.values()):,} events")
        lines += [f"    {count:,}  {why}" for why, count in sorted(report.skipped.items(), key=lambda kv: -kv[1])]
    if report.rejected:
        lines.append(f"  refused: {sum(report.rejected.values()):,} events")
        lines += [f"    {count:,}  {why}" for why, count in sorted(report.rejected.items())]
    for batch in report.batches:
        lines.append(f"  batch {batch['id']}: {batch['records']:,} records, {batch['status']}")
        lines += [f"    error {e.get('code', '?')} rows {e.get('rows', [])}: {e.get('description', '')}"
                  for e in batch.get("errors", [])[:5]]  # fmt: skip
    lines += [f"  note: {note}" for note in report.notes]
    if report.applied:
        rate = f" ({report.sent / max(report.seconds, 1e-9):,.0f} events/s)" if report.sent else ""
        lines.append(f"  took {report.seconds:,.1f} s{rate}")
    else:
        lines += report.plan
    return "\n".join(lines)


def progress_line(report: BackfillReport) -> str:
    """One line for a terminal: the App API's pace against its limit, slices done, events a second, time left."""
    rate = (report.sent + report.staged) / max(report.seconds, 1e-9)
    left = "" if report.time_left is None else f", about {duration(report.time_left)} left"
    staged = f", {report.staged:,} staged in batches" if report.staged else ""
    earlier = f", {report.already_sent:,} taken before" if report.already_sent else ""
    return (
        f"backfill: {_pace(report)}, slices {report.slices_done}/{report.slices} done; {report.deliveries:,} "
        f"deliveries, {report.sent:,} events sent{staged}{earlier} ({rate:,.0f} events/s){left}"
    )


def _pace(report: BackfillReport) -> str:
    pace = report.app_api_calls / max(report.seconds, 1e-9)
    throttled = f", {report.throttled:,} answered 429" if report.throttled else ""
    return f"{pace:.1f} pages/s of the App API's {REQUESTS_PER_SECOND:g}{throttled}"
