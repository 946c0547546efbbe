"""A small threaded HTTP server shared by the emulators: routing, call recording, fault injection."""

from __future__ import annotations

import contextlib
import copy
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from tests.contracts.openapi import VIOLATIONS, Contract, served
from tests.emulators.faults import Fault, Faults


@dataclass
class Request:
    """What a route handler sees of one request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON, or a 400 naming the problem."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as e:
            raise ApiError(400, {"error_code": "400", "message": f"body: not valid JSON ({e})"}) from e


@dataclass
class Response:
    """What a route handler returns."""

    status: int
    body: Any = None
    """JSON, or bytes sent as they are (an answer that is not JSON)."""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds the answer takes beyond its handling (a slow server), waited without holding the emulator."""


@dataclass(frozen=True)
class Call:
    """One recorded request."""

    method: str
    path: str
    operation: str
    status: int
    latency_ms: float
    at: float = 0.0
    """When the request arrived (epoch seconds)."""


Handler = Callable[[Request], Response]


class ApiError(Exception):
    """An HTTP error answer; raised by handlers, rendered by the server."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}")
        self.status = status
        self.body = body
        self.headers = headers or {}


class Emulator:
    """Base class: subclasses register routes; `start()` serves on 127.0.0.1 in a background thread.

    With a `contract` (the vendor's OpenAPI file), every request is held to it before its handler runs (one the file
    does not allow is refused, as the vendor would, and recorded against the test that sent it), and every answer a
    handler gives is checked against it too (an emulator that answers what the vendor would not is a broken test)."""

    contracts: tuple[Contract, ...] = ()
    lenient = False
    """Serve a request outside the contract instead of refusing it (still recorded): a vendor that accepted what its
    spec does not list, as one may have for an earlier release."""

    def __init__(self) -> None:
        self.faults = Faults()
        self.calls: list[Call] = []
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # -- routes ------------------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, operation: str, handler: Handler) -> None:
        """Register `handler` for `method` and a path pattern with {name} placeholders."""
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self._routes.append((method, regex, operation, handler))

    def before(self, request: Request, operation: str) -> None:
        """Hook run before every handler (auth checks); raise ApiError to refuse."""

    def contract_of(self, path: str) -> tuple[Contract, str] | None:
        """The vendor's file that holds this path, and the path as the file names it (None: no file does)."""
        return served(self.contracts, path)

    def refusal(self, problems: list[str]) -> ApiError:
        """How the vendor answers a request its spec does not allow."""
        return ApiError(400, {"error_code": "400", "message": "; ".join(problems)})

    # -- observability -----------------------------------------------------------------------------------
    def count(self, operation: str = "*", since: int = 0) -> int:
        """How many recorded calls match an fnmatch pattern of operation names."""
        import fnmatch

        with self._lock:
            return sum(1 for c in self.calls[since:] if fnmatch.fnmatchcase(c.operation, operation))

    def mark(self) -> int:
        """A position in the call log, for counting the calls made after it."""
        with self._lock:
            return len(self.calls)

    # -- state ------------------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """What the emulator holds (its objects, call log and settings), for `restore`; its machinery (routes, lock,
        server: the underscored attributes) and its faults are not state."""
        with self._lock:
            return {k: copy.deepcopy(v) for k, v in vars(self).items() if self._is_state(k)}

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Hold what `snapshot` held, with no faults, as an emulator made at that moment would; it keeps its URL."""
        with self._lock:
            for stale in [k for k in vars(self) if self._is_state(k) and k not in snapshot]:
                delattr(self, stale)
            for key, value in snapshot.items():
                setattr(self, key, copy.deepcopy(value))
            self.faults = Faults()

    @staticmethod
    def _is_state(attribute: str) -> bool:
        return not attribute.startswith("_") and attribute != "faults"

    # -- serving ------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:40123."""
        assert self._server is not None, "emulator not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self, port: int = 0) -> Self:
        """Serve in a daemon thread."""
        emulator = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body go in two writes: with Nagle's algorithm the body waited for the client's
            # delayed ACK, 40 ms a request (most of the suite's waiting).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet: payloads hold personal data
                pass

            def _serve(self) -> None:
                emulator._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        # A short poll: stop() waits for the loop to see it, and half a second a stop added up over the suite.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        started, arrived = time.perf_counter(), time.time()
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        request = Request(
            method=h.command,
            path=split.path,
            query={k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in h.headers.items()},
            body=body,
        )
        operation, handler = "unknown", None
        for method, regex, op, fn in self._routes:
            m = regex.match(request.path)
            if m and method == request.method:
                operation, handler, request.params = op, fn, m.groupdict()
                break
        try:
            response = self._answer(request, operation, handler)
        except _Dropped:
            self._record(request, operation, 0, started, arrived)
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
            return
        body = response.body
        payload = b"" if body is None else body if isinstance(body, bytes) else _json(body).encode()
        # Record before answering, so a client that has its answer always finds the call counted.
        self._record(request, operation, response.status, started, arrived)
        h.send_response(response.status)
        headers = {"Content-Type": "application/json", **response.headers}
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    def _answer(self, request: Request, operation: str, handler: Handler | None) -> Response:
        faults = self.faults.pick(operation)
        response = self._answer_with(request, operation, handler, faults)
        if any(f.kind == "lost" for f in faults):
            raise _Dropped
        return response

    def _answer_with(self, request: Request, operation: str, handler: Handler | None, faults: list[Fault]) -> Response:
        for fault in faults:
            if fault.kind == "latency":
                time.sleep(fault.seconds)
            elif fault.kind == "drop":
                raise _Dropped
            elif fault.kind == "body":
                return Response(200 if fault.status == 500 else fault.status, fault.body)
            elif fault.kind == "status":
                headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                return Response(fault.status, {"error_code": str(fault.status), "message": "injected"}, headers)
        if handler is None:
            known = any(regex.match(request.path) for _, regex, _, _ in self._routes)
            return Response(405 if known else 404, {"error_code": "404", "message": "no such route"})
        try:
            with self._lock:
                self.before(request, operation)
                self._hold_to_contract(request)
                response = handler(request)
        except ApiError as e:
            return Response(e.status, e.body, e.headers)
        held = self.contract_of(request.path)
        if held is not None and not isinstance(response.body, bytes):
            VIOLATIONS.add(held[0].answer_problems(request.method, held[1], response.status, response.body))
        if response.delay:  # outside the lock: concurrent requests each take their own time
            time.sleep(response.delay)
        return response

    def _hold_to_contract(self, request: Request) -> None:
        held = self.contract_of(request.path)
        if held is None:
            return
        problems = held[0].request_problems(request.method, held[1], request.query, request.body, request.headers)
        if problems:
            VIOLATIONS.add(problems)
            if not self.lenient:
                raise self.refusal(problems)

    def _record(self, request: Request, operation: str, status: int, started: float, arrived: float) -> None:
        with self._lock:
            self.calls.append(
                Call(request.method, request.path, operation, status, (time.perf_counter() - started) * 1000, arrived)
            )


def _json(body: Any) -> str:
    """`json.dumps(body)`, an answer's list an item a call: one call over a page of a thousand deliveries holds the
    interpreter for tens of milliseconds, and the requests arriving meanwhile (their time is what a rate limit counts)
    would be stamped late."""
    if not (isinstance(body, dict) and all(isinstance(key, str) for key in body)):
        return json.dumps(body)

    def value(it: Any) -> str:
        return "[" + ", ".join(map(json.dumps, it)) + "]" if isinstance(it, list) else json.dumps(it)

    return "{" + ", ".join(f"{json.dumps(key)}: {value(it)}" for key, it in body.items()) + "}"


class _Dropped(Exception):
    pass


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops the connections of more concurrent clients, which then wait a second to try
    # again: a cost of the emulator, not of the API.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a command that stopped, a keep-alive connection closed) is not the emulator's
        error; printed, it landed in whatever stderr the test was capturing from the command under test."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)
