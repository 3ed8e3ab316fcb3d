"""While the answers of a burst prepare their provider requests, what can wait does."""

import asyncio
import gc

from conversations import request_gate
from conversations.request_gate import request_preparing, requests_sent


async def test_collections_wait_until_every_answer_of_a_burst_has_sent_its_request(collector_set_up):
    first, second = request_preparing(), request_preparing()
    assert not gc.isenabled()

    first()
    first()  # said twice (a retried request): still one answer
    assert not gc.isenabled()
    second()
    assert gc.isenabled()


async def test_collections_resume_after_max_wait_while_a_request_is_still_being_prepared(
    collector_set_up, monkeypatch
):
    monkeypatch.setattr(request_gate, "MAX_WAIT", 0.02)
    slow = request_preparing()
    await asyncio.sleep(0.05)
    assert gc.isenabled()
    late = request_preparing()  # the burst goes on: no second pause until it is over
    assert gc.isenabled()
    slow()
    late()

    next_burst = request_preparing()
    assert not gc.isenabled()
    next_burst()
    assert gc.isenabled()


async def test_waiting_work_goes_ahead_after_max_wait(monkeypatch):
    monkeypatch.setattr(request_gate, "MAX_WAIT", 0.02)
    request_sent = request_preparing()
    try:
        async with asyncio.timeout(1):
            await requests_sent()
    finally:
        request_sent()
