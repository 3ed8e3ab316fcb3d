"""Work that waits until the answers of a burst have sent their provider requests."""

import asyncio

from conversations.chat import request_gate
from conversations.chat.request_gate import request_preparing, requests_sent


async def test_waiting_work_goes_ahead_once_every_answer_of_the_burst_has_sent_its_request(monkeypatch):
    monkeypatch.setattr(request_gate, "MAX_WAIT", 5.0)
    first, second = request_preparing(), request_preparing()
    waiting = asyncio.create_task(requests_sent())

    first()
    first()  # said twice (a retried request): still one answer
    await asyncio.sleep(0.02)
    assert not waiting.done()

    second()
    async with asyncio.timeout(1):
        await waiting


async def test_waiting_work_goes_ahead_after_max_wait(monkeypatch):
    monkeypatch.setattr(request_gate, "MAX_WAIT", 0.02)
    request_sent = request_preparing()
    try:
        async with asyncio.timeout(1):
            await requests_sent()
    finally:
        request_sent()


async def test_nothing_waits_when_no_request_is_being_prepared():
    request_preparing()()
    task = asyncio.create_task(requests_sent())
    await asyncio.sleep(0)
    assert task.done()
