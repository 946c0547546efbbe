"""A recording proxy on loopback in front of AEP: the stack's `aep:imsUrl` and `aep:platformUrl` point at it, so every
call the CLI's providers and the commands make passes here and is written down (method, path, status), and for an
unexpected answer the request and answer, with every secret left out. IMS bodies are never kept (they hold the client
secret and the token)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

IMS_PATHS = ("/ims/",)
HIDDEN_HEADERS = {"authorization", "x-api-key", "cookie", "set-cookie"}
KEPT_BODY = 2_000


@dataclass
class Recorded:
    """What passed the proxy."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    """Each call: method, path (no query values that could hold a secret), status, milliseconds."""
    failures: list[dict[str, Any]] = field(default_factory=list)
    """Each answer of 400 or more: the request and the answer, secrets left out."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def since(self, mark: int) -> list[dict[str, Any]]:
        """The calls after `mark` (a length of `calls`)."""
        with self.lock:
            return list(self.calls[mark:])


def _redacted(headers: dict[str, str]) -> dict[str, str]:
    return {k: ("(hidden)" if k.lower() in HIDDEN_HEADERS else v) for k, v in headers.items()}


def _body(raw: bytes, path: str) -> Any:
    if path.startswith(IMS_PATHS) or not raw:
        return None if not raw else "(not kept: IMS)"
    try:
        return json.loads(raw)
    except ValueError:
        return raw[:KEPT_BODY].decode(errors="replace")


@contextlib.contextmanager
def recording_proxy(ims_url: str, platform_url: str) -> Iterator[tuple[str, Recorded]]:
    """Serve the proxy on a free loopback port for the block: (its base URL, what it records)."""
    recorded = Recorded()
    session = requests.Session()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for a delayed ACK between

        def log_message(self, format: str, *args: Any) -> None:  # quiet: bodies hold personal data
            pass

        def _forward(self) -> None:
            started = time.perf_counter()
            parts = urlsplit(self.path)
            upstream = ims_url if parts.path.startswith(IMS_PATHS) else platform_url
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            try:
                answer = session.request(
                    self.command, upstream + self.path, data=body, headers=headers, timeout=120, allow_redirects=False
                )
                status, content, answer_headers = answer.status_code, answer.content, dict(answer.headers)
            except requests.RequestException as e:
                status, content, answer_headers = 502, json.dumps({"proxy": type(e).__name__}).encode(), {}
            with recorded.lock:
                recorded.calls.append(
                    {
                        "method": self.command,
                        "path": parts.path,
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                )
                if status >= 400:
                    recorded.failures.append(
                        {
                            "request": {
                                "method": self.command,
                                "path": parts.path,
                                "headers": _redacted(headers),
                                "body": _body(body, parts.path),
                            },
                            "answer": {"status": status, "body": _body(content, parts.path)},
                        }
                    )
            self.send_response(status)
            for key, value in answer_headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorded
    finally:
        server.shutdown()
        server.server_close()
