"""The web process as the Procfile starts it (`python -m chatplatform.server`), over real sockets:
body limits, chunked and malformed bodies, and forwarded client addresses."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import websockets

from tests.waiting import wait_for_server

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 65536
BOUNDARY = "testboundary"
IMAGES = "/api/v1/chatbots/nordvin/images/"
GIF = (ROOT / "tests" / "data" / "images" / "label.gif").read_bytes()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> tuple[dict[str, str], str]:
    """Embedded defaults (SQLite, no Redis) with the demo chatbot and an integration key for it."""
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env.update(
        VAR_DIR=str(tmp_path_factory.mktemp("var")),
        DJANGO_SETTINGS_MODULE="chatplatform.settings",
        LOG_LEVEL="WARNING",
    )
    for command in (["migrate", "--noinput"], ["load_demo_data"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    created = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "nordvin", "--name", "e2e"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return env, created.stdout.strip()


def start_web(env: dict[str, str], log: Path, **settings: str):
    port = free_port()
    command = [sys.executable, "-m", "chatplatform.server", "-b", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(
        [*command, "chatplatform.asgi:application"],
        cwd=ROOT,
        env={**env, "HTTP_MAX_BODY_BYTES": str(LIMIT), "CHAT_MESSAGES_PER_MINUTE_PER_IP": "1", **settings},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_for_server(process, port, log)
    return process, port


def stop_web(process) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def web(platform, tmp_path_factory):
    env, key = platform
    process, port = start_web(env, tmp_path_factory.mktemp("log") / "web.log")
    yield port, key
    stop_web(process)


@pytest.fixture
def web_behind_proxy(platform, tmp_path):
    """The web process with the loopback address as its trusted proxy."""
    env, _ = platform
    process, port = start_web(env, tmp_path / "web.log", TRUSTED_PROXIES="127.0.0.1/32")
    yield port
    stop_web(process)


def exchange(port: int, *parts: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send the parts, then read until the server closes; the response's status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        for part in parts:
            sock.sendall(part)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def request_head(port: int, path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart(content: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="label.gif"\r\n'
            "Content-Type: image/gif\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def chunked(body: bytes, size: int = 4096) -> bytes:
    pieces = [body[start : start + size] for start in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)


def error_code(body: bytes) -> str:
    return json.loads(body)["error"]["code"]


@pytest.mark.parametrize("path", ["/healthz", IMAGES])
def test_it_refuses_a_body_over_the_limit_from_its_length_before_reading_it(web, path):
    port, _ = web

    # Only the head is sent: the answer must not wait for a body it will never read.
    status, headers, body = exchange(
        port, request_head(port, path, f"Content-Length: {LIMIT + 1}", "Content-Type: text/plain")
    )

    assert status == 413
    assert headers["content-type"] == "application/json"
    assert error_code(body) == "request_too_large"


def test_it_refuses_a_chunked_body_once_it_passes_the_limit(web):
    port, _ = web
    head = request_head(
        port, "/healthz", "Transfer-Encoding: chunked", "Content-Type: application/octet-stream"
    )

    # One byte over the limit and no final chunk: the answer comes from the count alone.
    status, _, body = exchange(port, head, chunked(b"x" * (LIMIT + 1)))

    assert status == 413
    assert error_code(body) == "request_too_large"


def test_a_body_within_the_limit_reaches_the_application(web):
    port, key = web
    body = multipart(GIF)

    status, _, answer = exchange(
        port,
        request_head(
            port,
            IMAGES,
            f"Authorization: Api-Key {key}",
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
            f"Content-Length: {len(body)}",
        ),
        body,
    )

    assert status == 201, answer
    assert json.loads(answer)["format"] == "GIF"


def test_a_chunked_upload_is_parsed_like_one_with_a_length(web):
    port, key = web
    head = request_head(
        port,
        IMAGES,
        f"Authorization: Api-Key {key}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        "Transfer-Encoding: chunked",
    )

    status, _, answer = exchange(port, head, chunked(multipart(GIF)), b"0\r\n\r\n")

    assert status == 201, answer
    assert json.loads(answer)["format"] == "GIF"


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=é"],
)
def test_a_malformed_multipart_body_gets_the_json_error(web, content_type):
    port, key = web
    body = multipart(GIF)
    head = request_head(
        port,
        IMAGES,
        f"Authorization: Api-Key {key}",
        f"Content-Length: {len(body)}",
    )
    head = head[:-2] + f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")

    status, headers, answer = exchange(port, head, body)

    assert status == 400
    assert headers["content-type"] == "application/json"
    assert error_code(answer) == "malformed_request"


async def first_answer_event(port: int, forwarded_for: str) -> dict:
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/chat/nordvin/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"X-Forwarded-For": forwarded_for},
    ) as ws:
        await ws.recv()  # the conversation
        await ws.send(json.dumps({"type": "message", "text": "Hvad koster fragt til Bornholm?"}))
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
            if event["type"] in {"start", "error"}:
                return event


def test_a_forged_forwarded_address_does_not_escape_the_per_address_limit(web):
    port, _ = web

    first = asyncio.run(first_answer_event(port, "198.51.100.1"))
    second = asyncio.run(first_answer_event(port, "198.51.100.2"))

    assert first["type"] == "start"
    assert second == {**second, "type": "error", "code": "rate_limited"}


def test_a_trusted_proxy_forwards_each_visitors_own_address(web_behind_proxy):
    port = web_behind_proxy

    first = asyncio.run(first_answer_event(port, "198.51.100.1"))
    second = asyncio.run(first_answer_event(port, "198.51.100.2, 127.0.0.1"))
    third = asyncio.run(first_answer_event(port, "198.51.100.1"))

    assert first["type"] == "start"
    assert second["type"] == "start"
    assert third == {**third, "type": "error", "code": "rate_limited"}
