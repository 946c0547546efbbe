"""This project's language hosts (scripts/pulumi-cli/languagehosts/: Pulumi's own are not on the Go module proxy) stop
as Pulumi's do. Done with a host, the engine sends it SIGINT, and kills it if it still runs 5 s later: a host that
kept serving held each command 5 s at its end, and the engine's kill raced the host's own exit, so that `pulumi
install` failed now and then with "closing language plugin "go": os: process already finished"."""

from __future__ import annotations

import signal
import subprocess
import time

import grpc
import pytest
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from tests.engine.harness import cli_bin

UNREACHABLE_ENGINE = "127.0.0.1:1"
"""The engine's address given to the host: it checks the engine's health only after five minutes."""


@pytest.mark.parametrize("language", ["python", "nodejs", "go"])
def test_a_host_the_engine_shook_hands_with_stops_at_its_sigint(language: str) -> None:
    host = subprocess.Popen(
        [str(cli_bin() / f"pulumi-language-{language}"), UNREACHABLE_ENGINE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = host.stdout.readline().strip() if host.stdout else ""
        assert port.isdigit(), f"the host printed {port!r}, not its port: {host.stderr.read() if host.stderr else ''}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            language_pb2_grpc.LanguageRuntimeStub(channel).Handshake(
                language_pb2.LanguageHandshakeRequest(
                    engine_address=UNREACHABLE_ENGINE, root_directory="/", program_directory="/"
                ),
                timeout=10,
            )
        asked = time.monotonic()
        host.send_signal(signal.SIGINT)
        code = host.wait(timeout=4)  # under the engine's 5 s
        assert code == 0 and time.monotonic() - asked < 2
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
