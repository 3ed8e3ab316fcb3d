"""Work that waits until the answers of a burst have sent their provider requests."""

import asyncio

from chatplatform.ai import request_gate
from chatplatform.ai.request_gate import pending_request_add, pending_requests_wait


async def test_waiting_work_goes_ahead_once_every_answer_of_the_burst_has_sent_its_request(monkeypatch):
    monkeypatch.setattr(request_gate, "MAX_WAIT", 5.0)
    first, second = pending_request_add(), pending_request_add()
    waiting = asyncio.create_task(pending_requests_wait())

    first()
    first()  # said twice (a retried request): still one answer
    await asyncio.sleep(0.02)
    assert not waiting.done()

    second()
    async with asyncio.timeout(1):
        await waiting


async def test_waiting_work_goes_ahead_after_max_wait(monkeypatch):
    monkeypatch.setattr(request_gate, "MAX_WAIT", 0.02)
    mark_sent = pending_request_add()
    try:
        async with asyncio.timeout(1):
            await pending_requests_wait()
    finally:
        mark_sent()


async def test_nothing_waits_when_no_request_is_being_prepared():
    pending_request_add()()
    task = asyncio.create_task(pending_requests_wait())
    await asyncio.sleep(0)
    assert task.done()
