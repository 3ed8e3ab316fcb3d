"""Work in batches with bounded concurrency, results in input order.

`run_bounded` runs in the calling thread when `concurrency` is 1 (so that a database
transaction or connection of the caller is the one used) and in a thread pool otherwise, each
batch in a copy of the caller's context variables;
`arun_bounded` runs coroutines on the running loop with a semaphore. The first failure is
raised once the batches already started have finished; batches not started are not run.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` in consecutive slices of at most `size`."""
    if size < 1:
        raise ValueError("The batch size must be at least 1.")
    return [items[start : start + size] for start in range(0, len(items), size)]


def run_bounded(
    fn: Callable[[Sequence[T]], R],
    items: Sequence[T],
    *,
    batch_size: int,
    concurrency: int = 1,
) -> list[R]:
    """`fn(batch)` for each batch of `items`, at most `concurrency` at a time; results in order."""
    batches = chunked(items, batch_size)
    if concurrency <= 1 or len(batches) <= 1:
        return [fn(batch) for batch in batches]
    failed = threading.Event()

    def run(batch: Sequence[T]) -> R | None:
        if failed.is_set():
            return None
        try:
            return fn(batch)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(max_workers=min(concurrency, len(batches)), thread_name_prefix="bounded") as pool:
        # Each batch runs in a copy of the caller's context (telemetry's tenant and feature).
        futures = [pool.submit(contextvars.copy_context().run, run, batch) for batch in batches]
        # Leaving the block waits for every started batch; the first error then propagates.
    return [future.result() for future in futures]  # type: ignore[misc]


async def arun_bounded(
    fn: Callable[[Sequence[T]], Awaitable[R]],
    items: Sequence[T],
    *,
    batch_size: int,
    concurrency: int = 1,
) -> list[R]:
    """`await fn(batch)` for each batch, at most `concurrency` at a time; results in order."""
    batches = chunked(items, batch_size)
    if concurrency <= 1 or len(batches) <= 1:
        return [await fn(batch) for batch in batches]
    semaphore = asyncio.Semaphore(concurrency)

    async def run(batch: Sequence[T]) -> R:
        async with semaphore:
            return await fn(batch)

    tasks = [asyncio.ensure_future(run(batch)) for batch in batches]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
