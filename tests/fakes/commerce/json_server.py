"""The plumbing of the commercetools, distributor and generic order API fakes.

A `FakeJsonApi` is a ThreadingHTTPServer on 127.0.0.1 (port chosen by the OS) in a daemon thread.
Subclasses answer in `answer(request)`; every request is recorded, and a test can script the
next answers for a path (an error status, `Retry-After`, a body that is not JSON, or a delay that
makes the client time out) with `script_next(...)`, or hold one until the test releases it
(`hold_next`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, Mapping[str, str], Any]


@dataclass
class RecordedRequest:
    method: str
    path: str  # as sent, percent-encoding kept
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())

    def basic_auth(self) -> tuple[str, str] | None:
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        user, _, password = base64.b64decode(value).decode().partition(":")
        return user, password

    def bearer(self) -> str:
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        return value if scheme.lower() == "bearer" else ""


@dataclass
class Scripted:
    """One scripted answer: `status` None answers normally, after `delay` seconds."""

    path: str
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    hold: threading.Event | None = None


class FakeJsonApi:
    name = "fake-json-api"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._scripted: list[Scripted] = []
        self._stopping = threading.Event()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.path.startswith(path_prefix) and (method is None or r.method == method)
        ]

    def script_next(
        self,
        status: int | None = None,
        *,
        path: str = "",
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
    ) -> None:
        """The next `times` requests whose path starts with `path` get this answer instead."""
        with self._lock:
            self._scripted.extend(
                Scripted(path, status, dict(headers or {}), body, delay) for _ in range(times)
            )

    def hold_next(self, release: threading.Event, *, path: str = "") -> None:
        """Hold the next request whose path starts with `path` until the test sets `release`,
        then answer it normally: the test decides when the shop's system answers."""
        with self._lock:
            self._scripted.append(Scripted(path, None, hold=release))

    def answer(self, request: RecordedRequest) -> Answer:
        raise NotImplementedError

    def start(self) -> FakeJsonApi:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        # Wakes handlers that are delaying an answer, so no thread outlives the test for long.
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeJsonApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _take_scripted(self, path: str) -> Scripted | None:
        with self._lock:
            for index, scripted in enumerate(self._scripted):
                if path.startswith(scripted.path):
                    return self._scripted.pop(index)
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeJsonApi


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read the recorded requests instead

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        url = urlsplit(self.path)
        request = RecordedRequest(
            method=method,
            path=url.path,
            query=parse_qs(url.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        fake._record(request)
        scripted = fake._take_scripted(request.path)
        if scripted and scripted.delay and fake._stopping.wait(scripted.delay):
            self.close_connection = True
            return
        if scripted and scripted.hold is not None:
            while not scripted.hold.wait(0.05):
                if fake._stopping.is_set():
                    self.close_connection = True
                    return
        if scripted and scripted.status is not None:
            status, headers, body = scripted.status, scripted.headers, scripted.body
        else:
            status, headers, body = fake.answer(request)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self._write(status, headers, body)

    def _write(self, status: int, headers: Mapping[str, str], body: Any) -> None:
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
        self.send_response(status)
        if data and not any(name.lower() == "content-type" for name in headers):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
