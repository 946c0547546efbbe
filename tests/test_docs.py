"""Every README section a file of the project cites exists: a reader sent to "Operations" finds it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SECTIONS = [m.group(1).strip() for m in re.finditer(r"^#{2,4} (.+)$", README, re.M)]
CITATION = re.compile(r"""README(?:'s)?,?\s+(?:section\s+)?["'“]([^"'”\n]+)["'”]""")
HISTORY = {"CHANGELOG.md"}
"""Files that record what was true when they were written: a section renamed since is not a broken citation there."""


def _tracked() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / n for n in names if n not in HISTORY and not n.startswith("tests/contracts/")]


def _exists(cited: str) -> bool:
    """A section is cited by its heading, or by the heading's part before a colon ("Other languages")."""
    return any(s == cited or s.startswith(f"{cited}:") for s in SECTIONS)


def test_every_readme_section_a_file_cites_exists() -> None:
    broken = []
    for path in _tracked():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        for match in CITATION.finditer(text):
            if not _exists(match.group(1)):
                line = text.count("\n", 0, match.start()) + 1
                broken.append(f"{path.relative_to(ROOT)}:{line} cites {match.group(1)!r}")
    assert broken == [], f"README sections cited but not there (sections: {SECTIONS})"
