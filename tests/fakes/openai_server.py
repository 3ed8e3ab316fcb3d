"""An OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

Tests drive the real `openai` SDK against it: `POST /v1/chat/completions` (plain, JSON mode and
SSE streaming with `stream_options.include_usage`), `POST /v1/embeddings` (deterministic vectors,
`dimensions`, float or base64) and `GET /v1/models`, with OpenAI's error bodies. Each request takes
the next scripted `Reply` (or the default one), so a test can provoke errors, slow or hanging
answers and streams cut mid-way; every request is recorded for assertions.

In a test::

    from tests.fakes.openai_server import openai_server  # noqa: F401

    def test_it_answers(openai_server):
        openai_server.script("Hello there", first_token_delay=0.05)
        ...  # point OPENAI_BASE_URL / OPENAI_API_KEY at openai_server.base_url / .api_key
        assert openai_server.requests[0].body["stream"] is True

For a benchmark, every request streams the same answer with fixed timings::

    python -m tests.fakes.openai_server --port 9100 --first-token-ms 200 --interval-ms 20 --tokens 100

One thread per connection that sleeps between tokens, so 100+ concurrent streams keep accurate
timings at little CPU.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import orjson
import pytest

DEFAULT_TEXT = "This is the fake OpenAI server's default answer."
DEFAULT_EMBEDDING_DIMENSION = 1536
_TOKEN_RE = re.compile(r"\s*\S+")
_COUNT_RE = re.compile(r"\w+|[^\w\s]")
_BENCHMARK_TEXT = (
    "Our wine club sends six hand-picked bottles every second month and members save ten percent "
    "on everything else they buy from the shop"
)

# Error bodies as the real API sends them (message, type, code), by status.
_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to sample from this model.", "invalid_request_error", None),
    404: ("The model does not exist or you do not have access to it.", "invalid_request_error", None),
    429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


@dataclass(frozen=True)
class Reply:
    """What the server does with one request.

    `text` is split into word tokens (or give `tokens` explicitly); in JSON mode the text is
    returned as the message content as it is. Timings are in seconds: `hang` waits before any
    response (to provoke a client timeout), `first_token_delay` and `interval` pace the tokens.
    `status` >= 400 answers with OpenAI's error body (`error_message`, `error_type`, `error_code`
    override it). `cut_after=N` closes the connection after N content tokens, without [DONE].
    """

    text: str | None = None
    tokens: list[str] | None = None
    status: int = 200
    error_message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0
    first_token_delay: float = 0.0
    interval: float = 0.0
    cut_after: int | None = None
    finish_reason: str = "stop"
    usage: tuple[int, int] | None = None
    # When set, the server holds the request until the test sets the event, then answers.
    hold: threading.Event | None = None


@dataclass
class RecordedRequest:
    """A request as the server received it; `outcome` is filled when it has been answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    outcome: str = "pending"  # completed | rejected | cut | client_disconnected | aborted


class _Stopping(Exception):
    """The server is shutting down; abandon the response."""


class FakeOpenAIServer:
    """The server; `start()` it (or use the `openai_server` fixture) and read `base_url`."""

    def __init__(
        self,
        *,
        api_key: str | None = "sk-test-fake-openai-key",
        host: str = "127.0.0.1",
        port: int = 0,
        default_reply: Reply | None = None,
        record: bool = True,
    ) -> None:
        self.api_key = api_key
        self.default_reply = default_reply or Reply()
        self.embedding_dimension = DEFAULT_EMBEDDING_DIMENSION
        # Real servers keep `index` order; a test can scramble it to prove clients sort by index.
        self.shuffle_embeddings = False
        # The vector of one input text: random per text by default; the benchmark gives it one
        # whose similarities mean something, so that retrieval finds chunks.
        self.embedding_function: Callable[[str, int], np.ndarray] = fake_embedding
        # When set, scripted replies are kept for chat completions: embeddings get the default.
        self.script_chat_only = False
        self._record = record
        self._replies: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.fake = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def script(self, *replies: Reply | str, times: int = 1, **fields: Any) -> None:
        """Queue replies for the next requests, in order.

        `script("Hi", "Bye")`, `script(Reply(status=500), "Hi")`, `script("Hi", cut_after=1)` (one
        text plus `Reply` fields) or `script(status=500, times=3)`.
        """
        if fields:
            if len(replies) > 1 or (replies and not isinstance(replies[0], str)):
                raise TypeError("Reply fields go with at most one text; pass Reply objects otherwise.")
            text = replies[0] if replies else fields.pop("text", None)
            queued = [Reply(text=text, **fields)] * times
        else:
            queued = [Reply(text=reply) if isinstance(reply, str) else reply for reply in replies] * times
        with self._lock:
            self._replies.extend(queued)

    @property
    def pending_replies(self) -> int:
        with self._lock:
            return len(self._replies)

    def wait_for_outcome(self, index: int = -1, timeout: float = 5.0) -> str:
        """Wait until request `index` has been answered (or given up) and return its outcome."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            requests = self.requests
            if requests and requests[index].outcome != "pending":
                return requests[index].outcome
            time.sleep(0.01)
        return self.requests[index].outcome if self.requests else "none"

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def serve_until_interrupted(self) -> None:
        """Start, say where, serve until Ctrl-C, stop (for running it as a program)."""
        self.start()
        print(f"fake OpenAI server on http://{self._httpd.server_address[0]}:{self.port}/v1", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- used by the handler -------------------------------------------------------------------

    def _add_request(self, request: RecordedRequest) -> None:
        if self._record:
            with self._lock:
                self._requests.append(request)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else self.default_reply

    def _wait_for(self, release: threading.Event) -> None:
        while not release.wait(0.05):
            if self._stopping.is_set():
                raise _Stopping

    def _sleep_until(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining > 0 and self._stopping.wait(remaining):
            raise _Stopping


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # A burst of 100+ benchmark connections must not overflow the listen backlog (default 5).
    request_queue_size = 1024
    fake: FakeOpenAIServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, like the real API
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle's algorithm holds small SSE writes back and spoils token timings.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.fake._lock:
            self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.fake._lock:
            self.server.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests and benchmarks read the recorded requests instead

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        record = RecordedRequest(
            method=method,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        fake._add_request(record)
        try:
            record.outcome = self._respond(method, body, record)
        except _Stopping:
            record.outcome = "aborted"
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            record.outcome = "client_disconnected"
            self.close_connection = True

    def _respond(self, method: str, body: Any, record: RecordedRequest) -> str:
        fake = self.server.fake
        if fake.api_key is not None and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
            # Like the real API, quote only a masked fragment of the key that was sent.
            sent = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            masked = f"{sent[:3]}*****{sent[-4:]}" if len(sent) > 8 else "*****"
            self._send_error(401, Reply(error_message=f"Incorrect API key provided: {masked}."))
            return "rejected"
        route = (method, self.path.split("?")[0].rstrip("/"))
        if route == ("GET", "/v1/models"):
            self._send_json(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})
            return "completed"
        if route not in {("POST", "/v1/chat/completions"), ("POST", "/v1/embeddings")}:
            self._send_error(404, Reply(error_message=f"Invalid URL ({method} {self.path})"))
            return "rejected"
        if not isinstance(body, dict):
            self._send_error(400, Reply(error_message="We could not parse the JSON body of your request."))
            return "rejected"

        if fake.script_chat_only and route[1] == "/v1/embeddings":
            reply = fake.default_reply
        else:
            reply = fake._next_reply()
        if reply.hang:
            fake._sleep_until(time.monotonic() + reply.hang)
        if reply.hold is not None:
            fake._wait_for(reply.hold)
        if reply.status >= 400:
            self._send_error(reply.status, reply)
            return "rejected"
        if route[1] == "/v1/embeddings":
            return self._embeddings(body, reply)
        if body.get("stream"):
            return self._stream(body, reply)
        return self._completion(body, reply)

    # --- chat ------------------------------------------------------------------------------------

    def _completion(self, body: dict[str, Any], reply: Reply) -> str:
        fake = self.server.fake
        tokens = _tokens(body, reply)
        fake._sleep_until(time.monotonic() + reply.first_token_delay + reply.interval * len(tokens))
        if reply.cut_after is not None:
            self._cut()
            return "cut"
        prompt_tokens, completion_tokens = _usage(body, reply, tokens)
        self._send_json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "gpt-4o-mini"),
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(tokens), "refusal": None},
                        "logprobs": None,
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            reply.headers,
        )
        return "completed"

    def _stream(self, body: dict[str, Any], reply: Reply) -> str:
        fake = self.server.fake
        tokens = _tokens(body, reply)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "system_fingerprint": "fp_fake",
        }
        if include_usage:
            base["usage"] = None  # the real API sends an explicit null until the last chunk

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> None:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            self._write_event({**base, "choices": [choice]})

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()

        # Schedule against absolute times so that the pace does not drift with write costs.
        started = time.monotonic()
        fake._sleep_until(started + reply.first_token_delay)
        chunk({"role": "assistant", "content": "", "refusal": None})
        for number, token in enumerate(tokens):
            if reply.cut_after is not None and number >= reply.cut_after:
                self._cut()
                return "cut"
            if number:
                fake._sleep_until(started + reply.first_token_delay + number * reply.interval)
            chunk({"content": token})
        if reply.cut_after is not None and reply.cut_after <= len(tokens):
            self._cut()
            return "cut"
        chunk({}, reply.finish_reason)
        if include_usage:
            prompt_tokens, completion_tokens = _usage(body, reply, tokens)
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
            self._write_event({**base, "choices": [], "usage": usage})
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        return "completed"

    # --- embeddings ------------------------------------------------------------------------------

    def _embeddings(self, body: dict[str, Any], reply: Reply) -> str:
        fake = self.server.fake
        inputs = body.get("input")
        if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs or any(item in ("", []) for item in inputs):
            self._send_error(400, Reply(error_message="'$.input' is invalid."))
            return "rejected"
        dimension = int(body.get("dimensions") or fake.embedding_dimension)
        as_base64 = body.get("encoding_format") == "base64"
        fake._sleep_until(time.monotonic() + reply.first_token_delay)
        data = []
        for index, item in enumerate(inputs):
            text = item if isinstance(item, str) else orjson.dumps(item).decode()
            vector = np.asarray(fake.embedding_function(text, dimension), dtype=np.float32)
            encoded = base64.b64encode(vector.tobytes()).decode() if as_base64 else vector.tolist()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        if fake.shuffle_embeddings:
            data.reverse()
        used = sum(len(_COUNT_RE.findall(str(item))) for item in inputs)
        payload = {
            "object": "list",
            "data": data,
            "model": body.get("model", "text-embedding-3-small"),
            "usage": {"prompt_tokens": used, "total_tokens": used},
        }
        self._send_json(200, payload, reply.headers)
        return "completed"

    # --- wire ------------------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = orjson.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, reply: Reply) -> None:
        message, error_type, code = _ERRORS.get(status, ("Error.", "server_error", None))
        error = {
            "message": reply.error_message or message,
            "type": reply.error_type or error_type,
            "param": None,
            "code": reply.error_code or code,
        }
        self._send_json(status, {"error": error}, reply.headers)

    def _write_event(self, payload: dict[str, Any]) -> None:
        self._write_chunk(b"data: " + orjson.dumps(payload) + b"\n\n")

    def _write_chunk(self, data: bytes) -> None:
        # One write per chunk (size line, data, CRLF): one TCP segment per SSE event.
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _cut(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def fake_embedding(text: str, dimension: int = DEFAULT_EMBEDDING_DIMENSION) -> np.ndarray:
    """The unit vector the server returns for `text`: the same text always gives the same vector."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _tokens(body: dict[str, Any], reply: Reply) -> list[str]:
    if reply.tokens is not None:
        return list(reply.tokens)
    text = reply.text
    if text is None:
        json_mode = (body.get("response_format") or {}).get("type") in ("json_object", "json_schema")
        text = orjson.dumps({"answer": DEFAULT_TEXT}).decode() if json_mode else DEFAULT_TEXT
    return _TOKEN_RE.findall(text)


def _usage(body: dict[str, Any], reply: Reply, tokens: list[str]) -> tuple[int, int]:
    if reply.usage is not None:
        return reply.usage
    prompt = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        parts = content if isinstance(content, list) else [{"text": content}]
        for part in parts:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                prompt += len(_COUNT_RE.findall(part["text"]))
    return max(prompt, 1), len(tokens)


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A fresh fake OpenAI server for one test."""
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


def benchmark_reply(tokens: int, first_token_ms: float, interval_ms: float) -> Reply:
    """The reply of the standalone server: `tokens` words at the given pace."""
    vocabulary = _BENCHMARK_TEXT.split()
    words = [vocabulary[i % len(vocabulary)] for i in range(tokens)]
    return Reply(
        tokens=[word if i == 0 else f" {word}" for i, word in enumerate(words)],
        first_token_delay=first_token_ms / 1000,
        interval=interval_ms / 1000,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server for benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--first-token-ms", type=float, default=200.0)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--api-key", default=None, help="require this bearer key (default: accept any)")
    args = parser.parse_args(argv)

    server = FakeOpenAIServer(
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        default_reply=benchmark_reply(args.tokens, args.first_token_ms, args.interval_ms),
        record=False,  # a long benchmark must not grow memory
    )
    server.serve_until_interrupted()


if __name__ == "__main__":
    main()
