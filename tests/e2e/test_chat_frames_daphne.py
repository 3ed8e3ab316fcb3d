"""Frames over the chat's limits, against the web process started as the Procfile starts it: the
client always learns why its socket closed (a close code), never a silent drop."""

import asyncio
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import websockets

from tests.waiting import wait_for_server

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_web_arguments(port: int) -> list[str]:
    """The Procfile's web command after `python -m chatplatform.server`, for this port."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    words = shlex.split(line.removeprefix("web:").replace("${WEB_PORT:-8000}", str(port)))
    return words[words.index("chatplatform.server") + 1 :]


def max_message_size() -> int:
    arguments = procfile_web_arguments(0)
    return int(arguments[arguments.index("--websocket-max-message-size") + 1])


@pytest.fixture(scope="module")
def web_port(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env.update(VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="chatplatform.settings", LOG_LEVEL="WARNING")
    for command in (["migrate", "--noinput"], ["load_demo_data"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    port = free_port()
    log = var / "web.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "chatplatform.server", *procfile_web_arguments(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_for_server(process, port, log)
    yield port
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


async def send_and_read_until_closed(port: int, frame: str) -> tuple[list[dict], int | None]:
    """The events received after sending `frame`, and the close code the server sent (None when
    the connection was dropped without a close frame)."""
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/chat/nordvin/", origin=f"http://127.0.0.1:{port}", max_size=None
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "conversation"
        await ws.send(frame)
        events = []
        try:
            while True:
                events.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=20)))
        except websockets.ConnectionClosed as closed:
            return events, closed.rcvd.code if closed.rcvd else None


def test_daphnes_cap_is_well_above_the_chats_frame_limit(settings):
    assert max_message_size() >= 8 * settings.CHAT_MAX_FRAME_BYTES


def test_a_frame_over_the_chat_limit_gets_its_code_and_the_socket_stays_open(web_port, settings):
    frame = json.dumps({"type": "message", "text": "x" * settings.CHAT_MAX_FRAME_BYTES})

    async def send_then_stop() -> list[dict]:
        async with websockets.connect(
            f"ws://127.0.0.1:{web_port}/ws/chat/nordvin/", origin=f"http://127.0.0.1:{web_port}"
        ) as ws:
            assert json.loads(await ws.recv())["type"] == "conversation"
            await ws.send(frame)
            refused = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
            await ws.send(json.dumps({"type": "dance"}))
            after = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
            return [refused, after]

    events = asyncio.run(send_then_stop())

    assert [event["code"] for event in events] == ["frame_too_large", "unknown_event_type"]


def test_a_frame_over_daphnes_cap_is_closed_with_1009(web_port):
    frame = json.dumps({"type": "message", "text": "x" * max_message_size()})

    events, code = asyncio.run(send_and_read_until_closed(web_port, frame))

    assert events == []
    assert code == 1009
