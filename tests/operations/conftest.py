"""The ingress tests' fixtures (moto buffers in front of a live emulator flow), shared with the commands' tests."""

from tests.ingress.conftest import flow, ingress

__all__ = ["flow", "ingress"]
