"""Fails when a module of the package has less line coverage than the floor (`make test` runs it after pytest)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

FLOOR = 85.0


def main() -> int:
    """Print the modules under the floor; exit 1 if there are any."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "coverage.json"
        subprocess.run([sys.executable, "-m", "coverage", "json", "-q", "-o", str(report)], check=True)
        files = json.loads(report.read_text())["files"]
    low = {
        name: f["summary"]["percent_covered"] for name, f in files.items() if f["summary"]["percent_covered"] < FLOOR
    }
    for name, percent in sorted(low.items()):
        print(f"coverage: {name} is at {percent:.0f} %, under the {FLOOR:.0f} % floor")
    if not low:
        print(f"coverage: every module of customerio_aep is at {FLOOR:.0f} % or more")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
