"""`python -m tests.acceptance run|sweep`: what `make acceptance` and `make acceptance-sweep` run."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import requests

from customerio_aep.__main__ import Parser
from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepApiError
from customerio_aep.aep.settings import AepSettings
from customerio_aep.customerio.app_api import base_url
from tests.acceptance.run import Refused, Run
from tests.acceptance.settings import PREFIX, NotConfigured, Settings, prefix_age_hours
from tests.acceptance.sweeper import sweep


def main(argv: list[str] | None = None) -> int:
    """0 when every scenario passed (or nothing was configured), 1 when one failed, 2 when the run was refused."""
    parser = Parser(prog="python -m tests.acceptance", description=__doc__)
    parser.add_argument("command", choices=("run", "sweep"))
    parser.add_argument("--report-dir", default=".", help="where acceptance-report.json goes (default: here)")
    parser.add_argument("--older-than-hours", type=_hours, default=1.0, help="sweep: runs older than this")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except NotConfigured as e:
        print(e)
        return 0
    if args.command == "sweep":
        return _sweep(settings, args.older_than_hours)
    try:
        return 0 if Run(settings).execute(Path(args.report_dir)) else 1
    except Refused as e:
        print(e, file=sys.stderr)
        return 2


def _hours(text: str) -> float:
    """An argparse type: hours of 0 or more (nan would sweep nothing, a negative number the runs still going)."""
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or hours < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours of 0 or more")
    return hours


def _sweep(settings: Settings, hours: float) -> int:
    s = settings
    client = AepClient(AepSettings(s.client_id, s.client_secret, s.org_id, s.sandbox, s.ims_url, s.platform_url))
    cio = (base_url(s.customerio_region, s.customerio_url), s.customerio_key) if s.customerio_key else None
    print(f"sweeping acceptance leftovers older than {hours:g} h from org {s.org_id}, sandbox {s.sandbox!r}")

    def old_enough(name: str) -> bool:
        age = prefix_age_hours(name)
        if age is None and PREFIX.match(name or ""):
            print(f"skipped {name!r}: it looks like a run prefix but names no time, so no run of this suite made it")
        return age is not None and age >= hours

    try:
        swept = sweep(client, old_enough, print, cio)
    except (AepApiError, requests.RequestException) as e:
        print(f"error: the sweep stopped: {' '.join(str(e).split())[:300]}; run it again", file=sys.stderr)
        return 2
    print(f"removed {len(swept.removed)}, could not remove {len(swept.failed)}")
    return 1 if swept.failed else 0


if __name__ == "__main__":
    sys.exit(main())
