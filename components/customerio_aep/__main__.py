"""`python -m customerio_aep status|redrive|backfill|review`: operate a deployed integration, review a change (see
`--help`)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn, TextIO

from customerio_aep.operations.stack import CommandError, Deployment, read_stack

DEBUG = "CUSTOMERIO_AEP_DEBUG"
UNFORESEEN = "the command met what it does not handle"
"""The start of the line of an error no check foresaw: a bug (the property tests look for it)."""

# argparse (standard library): two subcommands with a few flags need nothing more, and the package stays lean.


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; 0 when all is well, 1 when something is failing, 2 when the command could not run."""
    args = _parser().parse_args(argv)
    try:
        if not args.reads_stack:
            reviewed: int = args.run(args)
            return reviewed
        deployment = read_stack(
            args.stack,
            args.cwd,
            {
                "flow_id": args.flow_id,
                "dataset_id": getattr(args, "dataset_id", None),
                "queue_name": args.queue,
                "dlq_name": getattr(args, "dlq", None),
                "quarantine_bucket": getattr(args, "bucket", None),
                "dedupe_table": getattr(args, "table", None),
            },
        )
        result: int = args.run(args, deployment)
        return result
    except CommandError as e:
        _write(sys.stderr, f"error: {e}")
        return 2
    except KeyboardInterrupt:
        _write(sys.stderr, "stopped")
        return 130
    except Exception as e:  # what no check foresaw: still one line, and the way to the whole story
        if os.environ.get(DEBUG):
            raise
        refusal = _aws_refusal(e)
        if refusal:
            _write(sys.stderr, f"error: {refusal}")
            return 2
        _write(sys.stderr, f"error: {UNFORESEEN} ({type(e).__name__}: {' '.join(str(e).split())[:200]}); run it again "
               f"with {DEBUG}=1 for the traceback, and report it")  # fmt: skip
        return 2


class Parser(argparse.ArgumentParser):
    """argparse's parser with its refusals on one line: the flag, the value, and where the help is."""

    def error(self, message: str) -> NoReturn:
        """Exit 2 with one line (argparse prints the whole usage first, which buries the reason)."""
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}; see {self.prog} --help\n")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m customerio_aep",
        description="Operate a deployed Customer.io → AEP integration. Ids come from the stack's outputs "
        "(through the Pulumi CLI, in the project directory) unless given as flags.",
    )
    parser.set_defaults(reads_stack=True)
    commands = parser.add_subparsers(required=True, metavar="command")
    status = commands.add_parser("status", help="is it flowing? exit 1 when something is failing")
    status.add_argument("--json", action="store_true", help="print JSON instead of the report")
    status.set_defaults(run=_status)
    redrive = commands.add_parser(
        "redrive", help="re-queue dead letters, replay quarantined bodies (dry run by default)"
    )
    redrive.add_argument("--reason", help="only dead letters whose reason contains this text, e.g. 'AEP answered 400'")
    redrive.add_argument("--quarantine", action="store_true", help="also replay quarantined bodies usable now")
    redrive.add_argument("--apply", action="store_true", help="move them (without it, only count)")
    redrive.add_argument("--table", help="dedupe table (default: the stack's dedupe_table output)")
    redrive.add_argument("--json", action="store_true", help="print JSON instead of the report")
    redrive.set_defaults(run=_redrive)
    backfill = commands.add_parser(
        "backfill",
        help="bring Customer.io's past deliveries into AEP, exactly once beside the live stream (dry run by default)",
        description="Lists Customer.io's deliveries (App API, GET /v1/messages) and brings each metric before the "
        "live stream began into AEP as the event the reporting webhook would have sent: by AEP's Batch Ingestion API "
        "(default), or by the live events' road (--via stream). Without a stack: CUSTOMERIO_APP_API_KEY (and "
        "CUSTOMERIO_REGION), the AEP_* credential, and --queue or AEP_INLET_URL for --via stream.",
    )
    from customerio_aep.history.command import add_arguments

    add_arguments(backfill, _positive)
    backfill.set_defaults(run=_backfill)
    review = commands.add_parser(
        "review",
        help="a pull request's review of `pulumi preview --json`, as Markdown",
        description="Reads `pulumi preview --json` output (a file, or standard input; with "
        "PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true its stream of engine events, which carries policy results) and "
        "prints Markdown for a pull request: data at risk first, policy results, what changes in words, the "
        "streaming budget, data usage labels, and a mapping change shown as the records made-up events become before "
        "and after. Secrets and payloads never appear.",
    )
    review.add_argument("preview_json", nargs="?", help="the file (default: standard input)")
    review.set_defaults(run=_review, reads_stack=False)
    for command in (status, redrive, backfill):
        command.add_argument("--stack", help="the stack to read (default: the selected one); '-' reads none")
        command.add_argument("--cwd", help="the Pulumi project directory (default: the current one)")
        command.add_argument("--flow-id", help="the dataflow id (default: the flow_id output)")
        command.add_argument("--queue", help="the ingress queue name (default: the queue_name output)")
    for command in (status, redrive):
        command.add_argument("--dataset-id", help="the dataset id (default: the dataset_id output)")
        command.add_argument("--dlq", help="the dead-letter queue name (default: the dlq_name output)")
        command.add_argument("--bucket", help="the quarantine bucket (default: the quarantine_bucket output)")
    return parser


def _aws(deployment: Deployment) -> Any:
    """A boto3 client factory in the stack's region; a clear error when boto3, credentials or a region is missing."""
    from customerio_aep.ingress.held import NoAwsAccess, aws_session

    try:
        return aws_session(deployment.aws_region()).client
    except NoAwsAccess as e:
        raise CommandError(str(e)) from None


def _aws_refusal(e: Exception) -> str | None:
    """One line for what AWS refused (a name that is not there, a permission the credential lacks), else None."""
    if not type(e).__module__.startswith("botocore"):
        return None
    answer = getattr(e, "response", None)
    error = answer.get("Error", {}) if isinstance(answer, dict) else {}
    said = " ".join(str(error.get("Message") or e).split())[:200]
    return (
        f"AWS refused {getattr(e, 'operation_name', 'a call')}: {error.get('Code', type(e).__name__)}: {said}; check "
        "the names (--queue, --dlq, --bucket, --table, or the stack's outputs) and the AWS credential's permissions"
    )


def _status(args: argparse.Namespace, deployment: Deployment) -> int:
    from customerio_aep.aep.client import AepClient
    from customerio_aep.history.checkpoint import checkpoint_summary, default_path
    from customerio_aep.ingress.budget import queue_age_limit
    from customerio_aep.operations.status import aep_status, ingress_status, judge_ingress, render

    client = AepClient(deployment.aep_settings())
    status = aep_status(client, deployment.need("flow_id", "--flow-id"), deployment.get("dataset_id"))
    if deployment.get("queue_name"):
        client_for = _aws(deployment)
        judge_ingress(
            status,
            ingress_status(
                client_for("sqs"),
                client_for("s3"),
                client_for("cloudwatch"),
                deployment.need("queue_name", "--queue"),
                deployment.need("dlq_name", "--dlq"),
                deployment.need("quarantine_bucket", "--bucket"),
            ),
            queue_age_limit(deployment.streaming_budget()),
        )
    history = checkpoint_summary(default_path(args.cwd, status.flow_id))
    if history:
        status.notes.append(history)
    _write(sys.stdout, json.dumps(asdict(status), indent=2) if args.json else render(status))
    return 1 if status.problems else 0


def _redrive(args: argparse.Namespace, deployment: Deployment) -> int:
    from customerio_aep.operations.redrive import Buffers, redrive, render

    names = Buffers(
        queue=deployment.need("queue_name", "--queue (redrive needs the aws ingress)"),
        dlq=deployment.need("dlq_name", "--dlq"),
        bucket=deployment.need("quarantine_bucket", "--bucket"),
        table=deployment.need("dedupe_table", "--table"),
    )
    report = redrive(
        _aws(deployment),
        names,
        reason=args.reason,
        quarantine=args.quarantine,
        apply=args.apply,
        progress=lambda line: _write(sys.stderr, line),
    )
    _write(sys.stdout, json.dumps(asdict(report), indent=2) if args.json else render(report))
    return 0


def _backfill(args: argparse.Namespace, deployment: Deployment) -> int:
    from customerio_aep.history.command import backfill

    return backfill(args, deployment, lambda: _aws(deployment))


def _review(args: argparse.Namespace) -> int:
    from customerio_aep.review.preview import PreviewError, read_preview
    from customerio_aep.review.render import render

    try:
        text = Path(args.preview_json).read_text() if args.preview_json else sys.stdin.read()
    except OSError as e:
        raise CommandError(f"cannot read {args.preview_json}: {e.strerror}") from None
    try:
        _write(sys.stdout, render(read_preview(text)))
    except PreviewError as e:
        raise CommandError(str(e)) from None
    return 0


def _positive(text: str) -> float:
    """An argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not math.isfinite(value) or value <= 0:  # nan and inf are floats too
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of events per second above 0")
    return value


def _write(stream: TextIO, text: str) -> None:
    stream.write(text + "\n")
    stream.flush()


if __name__ == "__main__":
    sys.exit(main())
