"""Earlier releases of this project, taken from the repository's own history (no network): the last commit at each
version of pyproject.toml, exported as a tree an engine test can run."""

from __future__ import annotations

import functools
import re
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

from tests.engine.harness import ROOT

_VERSION = re.compile(r'^version = "([^"]+)"', re.MULTILINE)


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


@functools.cache
def release_commits() -> dict[str, str]:
    """Each version pyproject.toml has had, with the last commit before the next version's first one (that release
    as its users got it)."""
    if _git("rev-parse", "--is-shallow-repository").strip() == "true":
        raise RuntimeError(
            "the upgrade tests build stacks with earlier releases from the repository's history, and this clone is "
            "shallow: `git fetch --unshallow` (in CI, check out with the full history)"
        )
    history = _git("rev-list", "--reverse", "HEAD").split()
    first_of: dict[str, str] = {}
    for commit in _git("rev-list", "--reverse", "HEAD", "--", "pyproject.toml").split():
        found = _VERSION.search(_git("show", f"{commit}:pyproject.toml"))
        if found:
            first_of.setdefault(found.group(1), commit)
    starts = [history.index(commit) for commit in first_of.values()]
    ends = [start - 1 for start in starts[1:]] + [len(history) - 1]
    return {version: history[end] for version, end in zip(first_of, ends, strict=True)}


def release_tree(version: str, into: Path) -> Path:
    """The project as release `version` had it (program, Pulumi.yaml, package), exported under `into`."""
    commit = release_commits().get(version)
    if commit is None:
        raise RuntimeError(f"no release {version} in this repository's history")
    tree = into / f"release-{version}"
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "__main__.py", "Pulumi.yaml", "components"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    return tree
