"""The AEP and Customer.io resources as a Pulumi package for programs in any language (the plugin in provider/)."""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DISTRIBUTION = "pulumi-customerio-aep"


def package_version() -> str:
    """This package's version: installed, from its metadata; run from a checkout on the path, from pyproject.toml."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text())["project"]["version"])
