"""The sweeper of answers left `streaming`: run every minute by beat (`conversations.tasks`).

Two kinds are left behind. An answer whose final write failed, also after retries, has its
outcome parked in Redis (`outcome_park`, kept `OUTCOME_KEEP_SECONDS`); the sweeper stores it.
An answer whose web process died (SIGKILL, a crash) has no outcome at all; once its owner's
heartbeat is older than `web_process.OWNER_GONE_AFTER_SECONDS` (or, whatever its owner, once it
is older than `ANSWER_MAX_SECONDS`), the sweeper marks it `interrupted`, with the text its tokens
had reached in the Redis mirror (`answer_buffer`) when there is one. Without Redis neither
outcomes nor partial texts survive their process: the in-process retries of the final write are
all there is, and a dead process's answers are interrupted without their text.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from datetime import datetime, timedelta

import orjson
import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chatplatform.event_loops import async_redis
from conversations.chat.answer_buffer import KEEP_SECONDS, MIRROR_KEY, encode, entry_frames
from conversations.chat.models import Message, StreamingSession, WebProcessHeartbeat
from conversations.chat.web_process import OWNER_GONE_AFTER_SECONDS
from conversations.chat.writes import AnswerOutcome, answers_update

logger = logging.getLogger(__name__)

OUTCOME_KEY = "chatplatform:answer-outcome:{}"
# The answer ids of parked outcomes, scored by when they were parked: no key scan needed.
OUTCOMES_INDEX = "chatplatform:answer-outcomes"
OUTCOME_KEEP_SECONDS = 24 * 3600
INTERRUPTED_CODE = "answer_interrupted"
INTERRUPTED_MESSAGE = "The server restarted before the answer was complete; please ask again."
# No answer streams this long: one still `streaming` is lost even if its process lives (its
# final write failed and could not be parked, without Redis say).
ANSWER_MAX_SECONDS = 15 * 60
# Answers handled per run; the next run, a minute later, takes the rest.
BATCH = 500


async def outcome_park(outcome: AnswerOutcome) -> bool:
    """Keep the outcome of an answer that could not be stored in Redis, for the sweeper; False
    without Redis, or when Redis fails too (the outcome is then lost)."""
    if not settings.REDIS_URL:
        return False
    payload = orjson.dumps(dataclasses.asdict(outcome), default=str)
    try:
        async with async_redis().pipeline(transaction=True) as pipe:
            pipe.set(OUTCOME_KEY.format(outcome.answer_id), payload, ex=OUTCOME_KEEP_SECONDS)
            pipe.zadd(OUTCOMES_INDEX, {outcome.answer_id: time.time()})
            await pipe.execute()
    except Exception:
        logger.warning("Could not park answer %s in Redis", outcome.answer_id, exc_info=True)
        return False
    return True


@dataclasses.dataclass(frozen=True)
class SweepResult:
    stored: int
    interrupted: int


def answers_sweep(*, now: datetime | None = None) -> SweepResult:
    """Store the parked outcomes, then mark the answers of dead processes `interrupted`."""
    now = now or timezone.now()
    client = _redis()
    stored = _parked_outcomes_store(client) if client else 0
    interrupted = _orphans_interrupt(client, now)
    # Heartbeats of processes long gone are of no more use.
    WebProcessHeartbeat.objects.filter(beat_at__lt=now - timedelta(days=1)).delete()
    if stored or interrupted:
        logger.info("Answer sweeper: stored %d parked answer(s), interrupted %d", stored, interrupted)
    return SweepResult(stored, interrupted)


def _redis() -> redis.Redis | None:
    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=settings.REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
    )


def _parked_outcomes_store(client: redis.Redis) -> int:
    stored = 0
    for raw_id in client.zrange(OUTCOMES_INDEX, 0, BATCH - 1):
        answer_id = raw_id.decode()
        key = OUTCOME_KEY.format(answer_id)
        raw = client.get(key)
        try:
            outcome = _outcome_of(raw) if raw is not None else None
        except (TypeError, ValueError, KeyError):
            # Parked by another version of the code; its answer is interrupted in due course.
            logger.exception("Dropping the unreadable parked outcome of answer %s", answer_id)
            outcome = None
        # Only over a placeholder: never over what a later write or a person stored.
        if (
            outcome is not None
            and Message.objects.filter(id=answer_id, status=Message.Status.STREAMING).exists()
        ):
            answers_update([outcome])
            stored += 1
        # Dropped only once stored: a failing run leaves it for the next.
        client.delete(key)
        client.zrem(OUTCOMES_INDEX, answer_id)
    return stored


def _outcome_of(raw: bytes) -> AnswerOutcome:
    fields = orjson.loads(raw)
    fields["conversation_id"] = uuid.UUID(fields["conversation_id"])
    return AnswerOutcome(**fields)


def _orphans_interrupt(client: redis.Redis | None, now: datetime) -> int:
    cutoff = now - timedelta(seconds=OWNER_GONE_AFTER_SECONDS)
    alive = WebProcessHeartbeat.objects.filter(beat_at__gte=cutoff).values("process_id")
    orphans = list(
        StreamingSession.objects.filter(status=StreamingSession.Status.STREAMING, started_at__lt=cutoff)
        .filter(~Q(owner__in=alive) | Q(started_at__lt=now - timedelta(seconds=ANSWER_MAX_SECONDS)))
        .values_list("message_id", flat=True)[:BATCH]
    )
    interrupted = 0
    for answer_id in orphans:
        mirror = _Mirror.read(client, str(answer_id)) if client else _Mirror()
        tokens = mirror.tokens
        with transaction.atomic():
            marked = Message.objects.filter(id=answer_id, status=Message.Status.STREAMING).update(
                status=Message.Status.INTERRUPTED, text="".join(tokens), error_code=INTERRUPTED_CODE
            )
            if marked:
                StreamingSession.objects.filter(message_id=answer_id).update(
                    status=StreamingSession.Status.INTERRUPTED,
                    event_count=len(tokens),
                    error_code=INTERRUPTED_CODE,
                    ended_at=now,
                )
        if marked and client:
            mirror.end(client, str(answer_id))
        interrupted += marked
    return interrupted


@dataclasses.dataclass
class _Mirror:
    """What an answer's Redis mirror (`answer_buffer`) holds: its token texts in order, the
    number of its last frame, and whether a final frame ended it."""

    tokens: list[str] = dataclasses.field(default_factory=list)
    last: int | None = None
    ended: bool = False

    @classmethod
    def read(cls, client: redis.Redis, answer_id: str) -> _Mirror:
        try:
            entries = client.xrange(MIRROR_KEY.format(answer_id))
        except redis.RedisError:
            logger.warning("Could not read the mirror of answer %s", answer_id, exc_info=True)
            return cls()
        mirror, texts = cls(), {}
        for entry_id, fields in entries:
            for number, frame in entry_frames(entry_id, fields):
                mirror.last = number
                if number > 0 and frame.startswith('{"type":"token"'):
                    texts[number] = orjson.loads(frame)["text"]
                elif frame.startswith(('{"type":"end"', '{"type":"error"')):
                    mirror.ended = True
        mirror.tokens = [texts[number] for number in sorted(texts)]
        return mirror

    def end(self, client: redis.Redis, answer_id: str) -> None:
        """Append the final `error` event, so that a client resuming the answer learns its fate
        instead of waiting for tokens that will never come."""
        if self.last is None or self.ended:
            return
        frame = encode(
            {
                "type": "error",
                "code": INTERRUPTED_CODE,
                "message": INTERRUPTED_MESSAGE,
                "message_id": answer_id,
            }
        )
        key = MIRROR_KEY.format(answer_id)
        try:
            number = self.last + 1
            client.xadd(key, {"s": number, "f": frame}, id=f"0-{number + 1}")
            client.expire(key, KEEP_SECONDS)
        except redis.RedisError:
            logger.warning("Could not end the mirror of answer %s", answer_id, exc_info=True)
