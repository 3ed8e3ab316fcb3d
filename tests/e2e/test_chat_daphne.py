"""The chat through real daphne processes on PostgreSQL and Redis (channels_redis, Redis buffer).

An answer starts on one web process; the client drops, reconnects to a second web process and
resumes the answer there from Redis, and the whole answer arrives once, in order.
"""

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import websockets
from cryptography.fernet import Fernet

from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.waiting import wait_for_server

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOKENS = [f"ord{n} " for n in range(40)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def e2e_database(postgres_url):
    name = f"e2e_{secrets.token_hex(4)}"
    server = postgres_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def fake_openai():
    server = FakeOpenAIServer(default_reply=Reply(tokens=TOKENS, interval=0.03)).start()
    yield server
    server.stop()


@pytest.fixture
def platform_env(tmp_path, e2e_database, redis_url, fake_openai) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env.update(
        DJANGO_SETTINGS_MODULE="chatplatform.settings",
        VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=e2e_database,
        REDIS_URL=redis_url,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        AI_PROVIDER="openai",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=fake_openai.base_url,
        LOG_LEVEL="WARNING",
    )
    for command in (["migrate", "--noinput"], ["load_demo_data"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    return env


@pytest.fixture
def two_web_processes(platform_env, tmp_path):
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "chatplatform.asgi:application"],
            cwd=ROOT,
            env=platform_env,
            stdout=(tmp_path / f"web{port}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    try:
        for process, port in zip(processes, ports, strict=True):
            wait_for_server(process, port, tmp_path / f"web{port}.log")
        yield ports
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=15)


async def open_chat(port: int, token: str = ""):
    query = f"?conversation={token}" if token else ""
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/chat/nordvin/{query}", origin=f"http://127.0.0.1:{port}"
    )
    hello = json.loads(await ws.recv())
    assert hello["type"] == "conversation"
    return ws, hello


async def resume_on_another_process(ports: list[int]) -> tuple[list[dict], list[dict], dict]:
    first, hello = await open_chat(ports[0])
    await first.send(json.dumps({"type": "message", "text": "Hvad koster fragt til Bornholm?"}))
    start = json.loads(await first.recv())
    seen = [json.loads(await first.recv()) for _ in range(5)]
    await first.close()

    second, again = await open_chat(ports[1], hello["token"])
    assert again["id"] == hello["id"]
    await second.send(
        json.dumps({"type": "resume", "message_id": start["message_id"], "after_seq": seen[-1]["seq"]})
    )
    rest = []
    while True:
        event = json.loads(await asyncio.wait_for(second.recv(), timeout=20))
        rest.append(event)
        if event["type"] in {"end", "error"}:
            break
    await second.close()
    return seen, rest, start


@pytest.mark.needs_redis
@pytest.mark.needs_postgres
def test_an_answer_started_on_one_process_resumes_on_another(two_web_processes, e2e_database):
    seen, rest, start = asyncio.run(resume_on_another_process(two_web_processes))

    assert start["type"] == "start"
    assert rest[0]["type"] == "start"  # the resumed stream says which answer it is
    tokens = seen + [event for event in rest if event["type"] == "token"]
    assert [event["seq"] for event in tokens] == list(range(1, len(tokens) + 1))
    assert "".join(event["text"] for event in tokens) == "".join(TOKENS)
    assert rest[-1]["type"] == "end"
    assert rest[-1]["text"] == "".join(TOKENS)
    with psycopg.connect(e2e_database) as conn:
        row = conn.execute(
            "SELECT status, text FROM conversations_message WHERE id = %s", [start["message_id"]]
        ).fetchone()
    assert row == ("completed", "".join(TOKENS))
