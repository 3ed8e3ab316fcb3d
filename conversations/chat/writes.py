"""The answer path's two writes, in batches: each question (with its answer's placeholder and
streaming session, and at a conversation's first message its row) before the first token, and
each answer once after the last.

Whatever waits when the writer is free goes together, written with the ORM in one transaction.
A failed batch is retried one by one, and again on a fresh connection when the connection was
lost. On PostgreSQL the writes run on threads of their own,
so that a burst does not queue ahead of the short reads answers wait for on Django's shared one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from channels.db import database_sync_to_async
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.utils import timezone
from psycopg_pool import PoolTimeout

from chatplatform.ai.request_gate import pending_requests_wait
from chatplatform.event_loops import PerLoop
from conversations.chat.models import Conversation, Message, StreamingSession
from conversations.chat.tasks import answers_record
from conversations.chat.web_process import process_id

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


# --- the statements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionRecord:
    """A question to save before its answer's first token."""

    conversation_id: uuid.UUID
    user_message_id: uuid.UUID
    answer_id: uuid.UUID
    text: str
    client_id: str = ""
    flow: str = ""
    route_reason: str = ""
    image_id: uuid.UUID | None = None
    # The conversation's row, at its first message (announced on connect, not stored yet).
    conversation: Conversation | None = None


def questions_insert(records: Sequence[QuestionRecord]) -> None:
    """Save questions, a placeholder for each answer, and the answers' streaming sessions, all or
    none, with the ORM; first the rows of conversations at their first message (a conversation
    already stored, by another connection with the same token, is left as it is). `created_at`
    and `started_at` are set here, not by `auto_now_add`: each row its own microsecond, answers
    after questions (`created_at` orders a conversation), and a session starts when its
    placeholder was created."""
    if not records:
        return
    conversations = [r.conversation for r in records if r.conversation is not None]
    at = timezone.now()
    n = len(records)
    questions = [
        Message(
            id=r.user_message_id,
            conversation_id=r.conversation_id,
            role=Message.Role.USER,
            status=Message.Status.COMPLETED,
            text=r.text,
            client_id=r.client_id,
            image_id=r.image_id,
            created_at=at + timedelta(microseconds=i),
        )
        for i, r in enumerate(records)
    ]
    placeholders = [
        Message(
            id=r.answer_id,
            conversation_id=r.conversation_id,
            role=Message.Role.ASSISTANT,
            status=Message.Status.STREAMING,
            reply_to_id=r.user_message_id,
            flow=r.flow,
            route_reason=r.route_reason[:300],
            created_at=at + timedelta(microseconds=n + i),
        )
        for i, r in enumerate(records)
    ]
    sessions = [
        StreamingSession(
            message_id=r.answer_id,
            status=StreamingSession.Status.STREAMING,
            # Which process streams it, for the sweeper (`web_process`).
            owner=process_id(),
            started_at=placeholders[i].created_at,
        )
        for i, r in enumerate(records)
    ]
    with transaction.atomic():
        if conversations:
            Conversation.objects.bulk_create(conversations, ignore_conflicts=True)
        _insert_as_given(Message, [*questions, *placeholders])
        _insert_as_given(StreamingSession, sessions)


def _insert_as_given(model, objs) -> None:
    """`bulk_create`'s own multi-row INSERT (`QuerySet._insert`), raw as when fixtures load, so
    that `auto_now_add` does not replace the timestamps set above."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.has_default()]
    for start in range(0, len(objs), 500):
        model._base_manager._insert(objs[start : start + 500], fields=fields, raw=True)


@dataclass(frozen=True)
class AnswerOutcome:
    answer_id: str
    conversation_id: uuid.UUID
    text: str
    status: str
    sources: list[dict[str, Any]]
    error_code: str
    token_count: int
    event_count: int
    ttft_ms: float | None
    metrics: dict[str, Any]
    context: list[dict[str, Any]]


def answers_update(outcomes: Sequence[AnswerOutcome]) -> None:
    """Save answers once, with their final status, all or none, and queue their background
    record (one task for all of them: the context chunks, and what listens to `answers_recorded`)."""
    if not outcomes:
        return
    now = timezone.now()
    conversation_ids = list(dict.fromkeys(outcome.conversation_id for outcome in outcomes))
    with transaction.atomic():
        _answers_update_each(outcomes, conversation_ids, now)
    records = [{"answer_id": o.answer_id, "context": o.context} for o in outcomes]
    # At once when the statement above has committed; at the end of the caller's transaction
    # when there is one. A broker that refuses the message is logged, never the answer's loss:
    # the analytics refresh writes missing records later.
    transaction.on_commit(lambda: answers_record.delay(records), robust=True)


def _answers_update_each(outcomes, conversation_ids, now) -> None:
    for outcome in outcomes:
        Message.objects.filter(id=outcome.answer_id).update(
            text=outcome.text,
            status=outcome.status,
            sources=outcome.sources,
            error_code=outcome.error_code,
            metrics=outcome.metrics,
        )
        StreamingSession.objects.filter(message_id=outcome.answer_id).update(
            status=outcome.status,
            token_count=outcome.token_count,
            event_count=outcome.event_count,
            ttft_ms=outcome.ttft_ms,
            error_code=outcome.error_code,
            ended_at=now,
        )
    Conversation.objects.filter(id__in=conversation_ids).update(updated_at=now)


# --- the batches ------------------------------------------------------------------------------


_of_loop = PerLoop(lambda: (_Batches(questions_insert), _Batches(answers_update))).get


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
        await pending_requests_wait()
        if first is not None:
            await first()
        await question_save(self._record)

    def __await__(self):
        self.start()
        return self._future.__await__()
