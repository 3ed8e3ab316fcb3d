"""The common part of the Shopify and Magento fakes: a ThreadingHTTPServer on 127.0.0.1.

It runs in a daemon thread, records every request (with its arrival time, to check backoff), and
answers scripted faults: the next requests get an error status (optionally with `Retry-After`) or
are held past the client's timeout. Each system's server subclasses it and answers in its shape.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it; header names are lower-case."""

    method: str
    raw_path: str  # path and query exactly as sent, still percent-encoded
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    @property
    def path(self) -> str:
        return urlsplit(self.raw_path).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.raw_path).query, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    remaining: int
    reply: Reply | None = None
    delay: float = 0.0
    when: Callable[[RecordedRequest], bool] | None = None


class FakeCommerceServer:
    """Start, stop, record, script faults; subclasses implement `handle`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeCommerceServer:
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    # --- test controls ---------------------------------------------------------------------
    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        body: Any = None,
        retry_after: str | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Answer the next `count` requests (those `when` accepts) with `status` and `body`."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        if 300 <= status < 400:
            headers["Location"] = "https://shop.example.com/admin"
        reply = Reply(status, body if body is not None else {"message": "Service Unavailable"}, headers)
        with self._lock:
            self._faults.append(_Fault(count, reply=reply, when=when))

    def delay_next(self, count: int = 1, *, seconds: float) -> None:
        """Hold the next `count` requests for `seconds`, then answer them normally."""
        with self._lock:
            self._faults.append(_Fault(count, delay=seconds))

    def requests_to(self, path_part: str) -> list[RecordedRequest]:
        return [request for request in self.requests if path_part in request.path]

    # --- for subclasses --------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def _dispatch(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            fault = next((f for f in self._faults if f.when is None or f.when(request)), None)
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.reply is not None:
            return fault.reply
        return self.handle(request)


class _Server(ThreadingHTTPServer):
    # Handler threads may sit on a client's idle keep-alive connection; stopping must not wait.
    daemon_threads = True
    block_on_close = False


def _handler_for(server: FakeCommerceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = RecordedRequest(
                method=self.command,
                raw_path=self.path,
                headers={key.lower(): value for key, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
                at=time.monotonic(),
            )
            reply = server._dispatch(request)
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout); nothing to answer

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
