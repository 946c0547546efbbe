"""`python -m customerio_aep backfill`: the command that puts a run together from the stack and the flags."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from customerio_aep.aep.batches import BatchIngestion
from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepApiError
from customerio_aep.aep.etag import get_item
from customerio_aep.aep.mapping_set import DATA_PREP, XED_FULL
from customerio_aep.aep.schema import REGISTRY
from customerio_aep.customerio.app_api import ACTIVITIES_SECONDS, AppApiError
from customerio_aep.customerio.history import Window
from customerio_aep.history import run as history
from customerio_aep.history.batch_road import BATCH_RECORDS, FILE_RECORDS, BatchRoad
from customerio_aep.history.checkpoint import Checkpoint, default_path
from customerio_aep.history.fidelity import FidelityError, FidelityGuard
from customerio_aep.history.files import JSON, PARQUET, parquet_available
from customerio_aep.history.listing import READERS
from customerio_aep.history.local_mapping import LocalMapping, UnsupportedMapping, leaf_types
from customerio_aep.history.pages import DEFAULT_PROCESSES
from customerio_aep.history.report import progress_line, render
from customerio_aep.history.road import BackfillStopped, Road
from customerio_aep.history.stream_road import DEFAULT_RATE, inlet_road, queue_road
from customerio_aep.operations.stack import CommandError, Deployment

BATCH, STREAM = "batch", "stream"
MOST_READERS = 100
"""Ten pages a second even when a page takes ten seconds."""
MOST_PROCESSES = 256
RESOURCE = "history"


def whole(text: str) -> int:
    """A flag's whole number of 1 or more (argparse names the flag when it is not one)."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or int(value) < 1:  # isdigit() alone takes '²'; int() does not
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(value)


def at_most(most: int, why: str) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to `most` (a count of threads or processes: more only costs)."""

    def bounded(text: str) -> int:
        value = whole(text)
        if value > most:
            raise argparse.ArgumentTypeError(f"{text!r} is more than {most}: {why}")
        return value

    return bounded


def add_arguments(parser: argparse.ArgumentParser, positive: Callable[[str], float]) -> None:
    """The backfill command's flags."""
    parser.add_argument("--since", help="from when: a date (2026-06-01), a time, or a duration back (90d); "
                        "default and earliest: what Customer.io keeps (6 months)")  # fmt: skip
    parser.add_argument("--until", help="up to when (exclusive; default: the stack's live_stream_started_at)")
    parser.add_argument("--via", choices=(BATCH, STREAM), default=BATCH,
                        help="batch (default): AEP's Batch Ingestion API, leaving the streaming capacity to live "
                        "events; stream: the live events' road, paced (small ranges, or a mapping the batch road "
                        "cannot evaluate)")  # fmt: skip
    parser.add_argument("--rate", type=positive, default=DEFAULT_RATE,
                        help=f"--via stream: events/s (default {DEFAULT_RATE:g})")  # fmt: skip
    parser.add_argument("--format", choices=(PARQUET, JSON), default=PARQUET,
                        help="--via batch: the files' format (default parquet)")  # fmt: skip
    parser.add_argument("--batch-records", type=whole, default=BATCH_RECORDS, help=argparse.SUPPRESS)
    parser.add_argument("--file-records", type=whole, default=FILE_RECORDS, help=argparse.SUPPRESS)
    parser.add_argument("--readers", type=at_most(MOST_READERS, "the App API answers ten requests a second"),
                        default=READERS,
                        help=f"App API cursors reading at once, all within its 10 requests/s (default {READERS}: the "
                        "limit when a page takes up to 1.2 s); a range is cut into as many time slices on its first "
                        "run")  # fmt: skip
    parser.add_argument("--processes", type=at_most(MOST_PROCESSES, "more than one a core only adds memory"),
                        default=DEFAULT_PROCESSES,
                        help="processes making events and records (default 1: this one, which keeps pace with three "
                        "times the App API's limit)")  # fmt: skip
    parser.add_argument("--workspace", default="", help="a workspace of the stack's `workspaces`: its history (its "
                        "App API key, its own live-stream start, its name in the `workspace` field)")  # fmt: skip
    parser.add_argument("--apply", action="store_true", help="send (without it, only count and plan)")
    parser.add_argument("--state", help="the file recording what was sent (default: .customerio-aep/ in --cwd)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the report")


def backfill(args: argparse.Namespace, deployment: Deployment, aws: Callable[[], Any]) -> int:
    """Run a backfill; 0 when every batch landed (or the dry run), 1 when a batch failed."""
    now = time.time()
    workspace = args.workspace
    if workspace and deployment.config:
        deployment.workspace(workspace)  # a clear error for a name the stack does not have
    window = history.window_of(args.since, args.until, deployment.live_start(workspace), now)
    flow_id = deployment.need("flow_id", "--flow-id")
    checkpoint = Checkpoint(Path(args.state) if args.state else default_path(args.cwd, flow_id, workspace))
    try:
        if args.since is None:
            window = Window(checkpoint.unfinished_since(window.until) or window.since, window.until)
        try:
            road = _road(args, deployment, checkpoint, flow_id, window, aws)
        except AepApiError as e:
            raise CommandError(f"backfill could not read the dataflow's mapping from AEP: {e}") from None
        live = _LiveLine(sys.stderr) if args.apply and not args.json else None
        run = history.Backfill(
            reader=deployment.app_api(workspace),
            checkpoint=checkpoint,
            window=window,
            wanted=deployment.events(),
            needs_person=deployment.profile(),
            road=road,
            activities_from=int(now) - ACTIVITIES_SECONDS,
            progress=live.show if live else lambda _report: None,
            workspace=workspace,
            readers=args.readers,
            processes=args.processes,
        )
        try:
            report = run.run(apply=args.apply)
        except (AppApiError, BackfillStopped, AepApiError) as e:
            raise CommandError(
                f"backfill stopped: {e.args[0]}; what was sent or staged is recorded: run it again to resume"
            ) from None
        except FidelityError as e:
            raise CommandError(
                f"fidelity guard: {e}; nothing of it was uploaded. Use --via stream (AEP's Data Prep maps each event "
                "itself), or correct the mapping"
            ) from None
        finally:
            if live:
                live.end()
    finally:
        checkpoint.close()
    _write(sys.stdout, json.dumps(asdict(report), indent=2) if args.json else render(report))
    return 1 if road.failed else 0


def _road(
    args: argparse.Namespace,
    deployment: Deployment,
    checkpoint: Checkpoint,
    flow_id: str,
    window: Window,
    aws: Callable[[], Any],
) -> Road:
    if args.via == STREAM:
        queue = deployment.get("queue_name")
        if queue:  # the forwarders hold whatever is queued to the stack's streaming budget
            return queue_road(aws()("sqs"), queue, args.rate)
        budget = deployment.streaming_budget()
        if args.rate > budget:  # straight to the inlet: nothing else holds it to the budget
            raise CommandError(
                f"--rate {args.rate:g} is above the stack's streaming budget of {budget:g} records/s "
                "(streamingThroughput), which live events share: give a lower --rate, or leave --via stream for the "
                "batch road"
            )
        return inlet_road(deployment.inlet_url(), args.rate)
    if not parquet_available():
        raise CommandError(
            "the batch road needs pyarrow, the `history` extra: pip install 'pulumi-customerio-aep[history]' (or use "
            "--via stream)"
        )
    workspace = f"-{args.workspace}" if args.workspace else ""
    return batch_road(
        AepClient(deployment.aep_settings()),
        flow_id,
        checkpoint,
        f"cio-history-{flow_id[:12]}{workspace}-{window.since}-{window.until}",
        args.format,
        batch_records=args.batch_records,
        file_records=args.file_records,
        processes=args.processes,
    )


def batch_road(
    client: AepClient, flow_id: str, checkpoint: Checkpoint, external_prefix: str, file_format: str, **options: Any
) -> BatchRoad:
    """The batch road into the dataflow's dataset, with the mapping set version the dataflow uses, all read from AEP;
    CommandError when the flow is gone or its mapping cannot be evaluated here."""
    flow = _flow_service_item(client, "flows", flow_id)
    params = flow["transformations"][0]["params"]
    target = _flow_service_item(client, "targetConnections", flow["targetConnectionIds"][0])
    mapping_set = client.call(
        RESOURCE, "read the mapping set", "GET", f"{DATA_PREP}/{params['mappingId']}",
        params={"version": str(params["mappingVersion"])},
    ).json()  # fmt: skip
    schema_id = mapping_set["outputSchema"]["schemaRef"]["id"]
    schema = client.call(
        RESOURCE, "read the schema", "GET", f"{REGISTRY}/tenant/schemas/{quote(schema_id, safe='')}",
        headers={"Accept": XED_FULL},
    ).json()  # fmt: skip
    types = leaf_types(schema.get("properties") or {})
    try:
        mapping = LocalMapping(mapping_set["mappings"], types)
    except UnsupportedMapping as e:
        raise CommandError(
            f"the batch road cannot evaluate mapping set {params['mappingId']} version {params['mappingVersion']}: "
            f"{e}. Use --via stream: AEP's Data Prep maps each event itself"
        ) from None
    return BatchRoad(
        BatchIngestion(client, str(target["params"]["dataSetId"])),
        checkpoint,
        mapping,
        FidelityGuard(client, mapping_set),
        types,
        external_prefix,
        file_format,
        **options,
    )


def _flow_service_item(client: AepClient, kind: str, object_id: str) -> dict[str, Any]:
    found = get_item(client, RESOURCE, kind, object_id)
    if found is None:
        raise CommandError(f"{kind} {object_id} does not exist in this sandbox (the stack's flow_id, or --flow-id)")
    return found


class _LiveLine:
    """A progress line rewritten in place on a terminal; nothing when the output is not one (logs stay clean)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream, self._tty, self._width = stream, stream.isatty(), 0

    def show(self, report: history.BackfillReport) -> None:
        """Rewrite the line with the run's counts so far."""
        if self._tty:
            line = progress_line(report)
            self._stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
            self._stream.flush()

    def end(self) -> None:
        """End the line, so what follows starts on its own."""
        if self._tty and self._width:
            self._stream.write("\n")
            self._stream.flush()


def _write(stream: TextIO, text: str) -> None:
    stream.write(text + "\n")
    stream.flush()
