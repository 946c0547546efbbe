"""The Lambda deployment package: the handler modules as the package `cio_ingress` (stdlib + boto3 only)."""

from __future__ import annotations

from pathlib import Path

import pulumi

LAMBDAS = Path(__file__).resolve().parent / "lambdas"
PACKAGE = "cio_ingress"
MODULES = ("__init__.py", "names.py", "inlet.py", "pace.py", "common.py", "dedupe.py", "receiver.py", "forwarder.py")


def archive() -> pulumi.AssetArchive:
    """The zip both functions deploy; handlers are `cio_ingress.receiver.handler` / `.forwarder.handler`."""
    return pulumi.AssetArchive({f"{PACKAGE}/{m}": pulumi.FileAsset(str(LAMBDAS / m)) for m in MODULES})
