import asyncio
import threading

import pytest

from chatplatform import telemetry
from chatplatform.calls.batch import arun_bounded, chunked, run_bounded


def test_it_cuts_items_into_batches():
    assert chunked([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    with pytest.raises(ValueError, match="at least 1"):
        chunked([1], 0)


def test_it_runs_at_most_the_concurrency_at_once_and_keeps_the_order():
    lock = threading.Lock()
    running = 0
    most = 0
    two_running = threading.Event()
    release = threading.Event()

    def work(batch):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            if running == 2:
                two_running.set()
        release.wait(10)
        with lock:
            running -= 1
        return sum(batch)

    results: list = []
    runner = threading.Thread(
        target=lambda: results.extend(run_bounded(work, list(range(10)), batch_size=2, concurrency=2))
    )
    runner.start()
    assert two_running.wait(10)
    release.set()
    runner.join(10)

    assert results == [1, 5, 9, 13, 17]
    assert most == 2


def test_batches_in_threads_keep_the_callers_telemetry_context(spans):
    def work(batch):
        with telemetry.span(operation="embeddings", provider="local"):
            return len(batch)

    with telemetry.context(tenant_type="chatbot", tenant_id="nordvin", feature="ingestion"):
        run_bounded(work, list(range(6)), batch_size=2, concurrency=3)

    assert {(span.tenant_id, span.feature) for span in spans} == {("nordvin", "ingestion")}
    assert len(spans) == 3


def test_the_first_failure_is_raised():
    def work(batch):
        if 4 in batch:
            raise ValueError("bad batch")
        return batch

    with pytest.raises(ValueError, match="bad batch"):
        run_bounded(work, list(range(8)), batch_size=2, concurrency=2)


async def test_async_batches_run_at_most_the_concurrency_at_once():
    running = 0
    most = 0
    entered: list[asyncio.Event] = [asyncio.Event() for _ in range(5)]
    release = asyncio.Event()

    async def work(batch):
        nonlocal running, most
        running += 1
        most = max(most, running)
        entered[batch[0]].set()
        await release.wait()
        running -= 1
        return batch[0]

    task = asyncio.ensure_future(arun_bounded(work, list(range(5)), batch_size=1, concurrency=3))
    for event in entered[:3]:
        await asyncio.wait_for(event.wait(), 10)
    assert not entered[3].is_set()
    release.set()

    assert await asyncio.wait_for(task, 10) == [0, 1, 2, 3, 4]
    assert most == 3
