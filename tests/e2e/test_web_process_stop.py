"""A web process stopped with SIGTERM stores the answers it is generating before it exits.

A real daphne process on PostgreSQL and Redis: one answer ends within the grace period and is
stored complete; one whose provider holds its next token far longer is stored `interrupted`
with the tokens it had streamed.
"""

import asyncio
import json
import signal
import subprocess

import psycopg
import pytest

from tests.e2e.test_chat_daphne import (  # noqa: F401  (fixtures)
    BIN,
    ROOT,
    e2e_database,
    fake_openai,
    free_port,
    open_chat,
    platform_env,
)
from tests.fakes.openai_server import Reply
from tests.waiting import wait_for_server

HELD = ["Vi sender ", "med GLS ", "og ", "det tager ", "1-3 dage."]
QUICK = ["Fragt ", "koster ", "49 kr."]


@pytest.fixture
def web_process(platform_env, tmp_path):  # noqa: F811
    port = free_port()
    log = tmp_path / "web.log"
    process = subprocess.Popen(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "chatplatform.asgi:application"],
        cwd=ROOT,
        env={**platform_env, "CHAT_SHUTDOWN_GRACE_SECONDS": "5", "LOG_LEVEL": "INFO"},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_server(process, port, log)
        yield process, port, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


async def start_answer(port: int, question: str) -> tuple[object, str]:
    """Ask, and return once the answer's first token has arrived."""
    ws, _ = await open_chat(port)
    await ws.send(json.dumps({"type": "message", "text": question}))
    start = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
    assert start["type"] == "start"
    token = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
    assert token["type"] == "token"
    return ws, start["message_id"]


@pytest.mark.needs_redis
@pytest.mark.needs_postgres
def test_sigterm_lets_answers_finish_or_stores_them_interrupted(web_process, fake_openai, e2e_database):  # noqa: F811
    process, port, log = web_process
    fake_openai.script_chat_only = True
    # The held answer's second token would come a minute after its first: far past the grace.
    fake_openai.script(Reply(tokens=HELD, interval=60), Reply(tokens=QUICK, interval=0.3))

    async def two_answers() -> tuple[str, str]:
        held_ws, held = await start_answer(port, "Hvordan sender I?")
        quick_ws, quick = await start_answer(port, "Hvad koster fragt?")
        process.send_signal(signal.SIGTERM)
        for ws in (held_ws, quick_ws):
            await ws.close()
        return held, quick

    held, quick = asyncio.run(two_answers())
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]

    with psycopg.connect(e2e_database) as conn:
        rows = {
            answer_id: tuple(rest)
            for answer_id, *rest in conn.execute(
                "SELECT m.id::text, m.status, m.text, s.status FROM conversations_message m "
                "JOIN conversations_streamingsession s ON s.message_id = m.id WHERE m.id = ANY(%s::uuid[])",
                [[held, quick]],
            )
        }
    assert rows[quick] == ("completed", "".join(QUICK), "completed")
    assert rows[held] == ("interrupted", HELD[0], "interrupted")
