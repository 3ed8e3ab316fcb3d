"""The answer pipeline's two writes, gathered into batches.

Every answer writes twice: its question (with a placeholder answer and streaming session) before
the first token, and the answer once after the last. When many answers run at once, their writes
are gathered: whatever waits when the writer is free goes in one transaction (three INSERTs for
any number of questions), and each caller resumes once its own write is committed. A lone write
leaves at once; nothing waits for a batch to fill. If a batch fails, its writes are retried one
by one, so that one bad write (its conversation deleted meanwhile, say) fails alone; a batch
that lost its connection (the server restarted, the connection was terminated) is tried again,
on another connection, up to `ATTEMPTS` times in all.

On PostgreSQL the writes run on threads of their own rather than the one thread that Channels and
Django share for sync calls, where a burst of writes would queue ahead of the short reads that
answers wait for, and they give their connection back to the pool at once. On SQLite they run on
that shared thread: one writer at a time, and its in-memory test databases lock tables across
threads.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from channels.db import database_sync_to_async
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from psycopg_pool import PoolTimeout

from chatplatform.loops import PerLoop
from conversations.chat import selectors as chat_store
from conversations.chat.request_gate import requests_sent
from conversations.chat.selectors import AnswerOutcome, QuestionRecord

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BATCH = 200
# Tries of one write whose connection was lost, and the pause before the second (it doubles).
ATTEMPTS = 3
RETRY_PAUSE = 0.1
_executor: ThreadPoolExecutor | None = None


def _in_writer(func: Callable[[list[T]], None]) -> Callable:
    """`func` as a coroutine function on the write threads (PostgreSQL) or Django's shared one."""
    global _executor  # created on first use, in the process that serves chats
    if connection.vendor != "postgresql":
        return database_sync_to_async(func)
    if _executor is None:
        # One batch of questions and one of answers in flight per event loop.
        _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="chat-writes")
    return database_sync_to_async(_returning_connection(func), thread_sensitive=False, executor=_executor)


def _returning_connection(func):
    @functools.wraps(func)
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            # `database_sync_to_async` closes the connection only when this thread runs its next
            # call; a write thread may sit idle long before that. A broken connection goes back
            # to the pool, which drops it; the next call gets a checked one (`pool.check`).
            close_old_connections()

    return call


class _Batches(Generic[T]):
    """Writes of one kind on one event loop; at most one batch in flight."""

    def __init__(self, write: Callable[[Sequence[T]], None]) -> None:
        self._write = write
        self._pending: list[tuple[T, asyncio.Future]] = []
        self._drainer: asyncio.Task | None = None

    async def submit(self, item: T) -> None:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((item, future))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        # Shielded: a cancelled answer's write still happens, and its outcome still arrives.
        await asyncio.shield(future)

    async def _drain(self) -> None:
        write = _in_writer(self._write)
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                failed = await _write_retrying(write, [item for item, _ in batch])
                if failed is not None and len(batch) > 1 and not _connection_lost(failed):
                    logger.warning(
                        "A batch of %d chat writes failed (%s); writing them one by one", len(batch), failed
                    )
                    for item, future in batch:
                        _settle(future, await _write_retrying(write, [item]))
                    continue
                for _, future in batch:
                    _settle(future, failed)
        finally:
            self._drainer = None


async def _write_retrying(write, items: list) -> Exception | None:
    """Write `items` together, again while their connection is what failed (up to `ATTEMPTS`
    tries); None once written, else the last error."""
    attempt = 1
    while True:
        try:
            await write(items)
        except Exception as exc:
            if not _connection_lost(exc) or _pool_exhausted(exc) or attempt == ATTEMPTS:
                return exc
            logger.warning("Chat writes lost their connection (try %d of %d): %s", attempt, ATTEMPTS, exc)
        else:
            return None
        if attempt > 1:  # the first retry at once: a fresh connection is usually all it takes
            await asyncio.sleep(RETRY_PAUSE * 2 ** (attempt - 2))
        attempt += 1


def _connection_lost(exc: Exception) -> bool:
    # Not IntegrityError and the like: the same write would fail the same way again.
    return isinstance(exc, OperationalError | InterfaceError)


def _pool_exhausted(exc: Exception) -> bool:
    # The pool found no live connection within its own timeout: the database is down, and
    # waiting that long again per try would only delay the answer's error.
    return isinstance(exc.__cause__, PoolTimeout)


def _settle(future: asyncio.Future, exc: Exception | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
        future.add_done_callback(lambda f: f.exception())  # read even when nobody waits any more


_of_loop = PerLoop(lambda: (_Batches(chat_store.messages_begin), _Batches(chat_store.answers_finish))).get


async def question_save(record: QuestionRecord) -> None:
    """Save a question, its answer's placeholder and streaming session; returns once committed."""
    await _of_loop()[0].submit(record)


async def answer_save(outcome: AnswerOutcome) -> None:
    """Save an answer with its final status and queue its background record; returns once committed."""
    await _of_loop()[1].submit(outcome)


class QuestionSave:
    """A question's write, started by `start()` (or when first awaited) once the provider
    requests of the answers that arrived with it have left (`request_gate`), and awaited once or
    more; how long it took is `timings["question_save_ms"]`."""

    def __init__(self, record: QuestionRecord, timings: dict[str, float]) -> None:
        self._record = record
        self._timings = timings
        self._future: asyncio.Future | None = None

    def start(self, *, after_requests: Callable[[], Awaitable[None]] | None = None) -> None:
        """Start the write; `after_requests`, other work that waits for the same moment (the
        answer's `start` event), runs first. Awaiting this save awaits it too."""
        if self._future is None:
            started = time.perf_counter()
            self._future = asyncio.ensure_future(self._write_after_requests(after_requests))
            self._future.add_done_callback(
                lambda _: self._timings.__setitem__(
                    "question_save_ms", round((time.perf_counter() - started) * 1000, 2)
                )
            )

    async def _write_after_requests(self, first: Callable[[], Awaitable[None]] | None) -> None:
        await requests_sent()
        if first is not None:
            await first()
        await question_save(self._record)

    def __await__(self):
        self.start()
        return self._future.__await__()
