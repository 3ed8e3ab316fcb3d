"""The embedding queue: every passage of every learner's documents gets its vector exactly once.

A chunk is `pending` until a worker claims it with one conditional UPDATE (`processing` and
`embedding_claimed_at`; on PostgreSQL the candidate rows are locked with SKIP LOCKED so that two
workers take disjoint batches, and the status test in the UPDATE itself keeps a chunk from being
claimed twice anywhere). A claimed batch is embedded per learner (telemetry feature
`tutor_embeddings`, tenant the learner) and stored `completed`, only while the claim is still
this worker's. A failed batch goes back to `pending` with exponential backoff in
`embedding_next_at`, until the attempt limit makes it `failed` with the error. A claim older
than the lease is a dead worker's: the chunk is given back (counting as an attempt, so a
passage that kills workers cannot loop forever).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from chatplatform import telemetry
from chatplatform.ai import get_embedder
from chatplatform.ai.base import Embedder, ProviderError
from chatplatform.documents.pipeline import embedding_model_name
from chatplatform.personal_data import redact_personal
from tutor.models import Chunk

logger = logging.getLogger(__name__)

QUEUE_KIND = "tutor_embedding_queue"
FEATURE = "tutor_embeddings"
BATCH_SIZE = 64
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 3600.0
LEASE_SECONDS = 300.0
EMBEDDING_LEASE_EXPIRED = "embedding_lease_expired"

_S = Chunk.EmbeddingStatus
Now = Callable[[], datetime]


@dataclass
class QueueRun:
    """What one run of the queue did."""

    claimed: int = 0
    completed: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0
    batches: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "claimed": self.claimed,
            "completed": self.completed,
            "retried": self.retried,
            "failed": self.failed,
            "recovered": self.recovered,
            "batches": self.batches,
            "errors": self.errors,
        }


def backoff_seconds(attempts: int) -> float:
    """Wait before attempt `attempts + 1`: 30 s, 60 s, 120 s, ... at most an hour."""
    return min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** max(0, attempts - 1))


def embedding_queue_run(
    *,
    embedder: Embedder | None = None,
    now: Now = timezone.now,
    batch_size: int = BATCH_SIZE,
    max_attempts: int = MAX_ATTEMPTS,
    lease_seconds: float = LEASE_SECONDS,
    budget_seconds: float | None = 25.0,
    max_batches: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> QueueRun:
    """Recover expired claims, then embed due pending chunks batch by batch until none are left,
    `max_batches` ran, or `budget_seconds` passed (so a run ends before the next beat slot)."""
    embedder = embedder or get_embedder()
    run = QueueRun()
    run.recovered = expired_claims_recover(now=now(), lease_seconds=lease_seconds, max_attempts=max_attempts)
    started = time.monotonic()
    while max_batches is None or run.batches < max_batches:
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            break
        claimed_at = now()
        ids = chunks_claim(now=claimed_at, limit=batch_size)
        if not ids:
            break
        run.batches += 1
        run.claimed += len(ids)
        batch_embed(
            ids, claimed_at=claimed_at, embedder=embedder, now=now, max_attempts=max_attempts, run=run
        )
        if progress is not None:
            progress(run.claimed)
    return run


def chunks_claim(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due pending chunks for this worker; the ids it got, in order."""
    table = Chunk._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    # The candidates in a CTE are picked (and on PostgreSQL locked) once; an `IN (SELECT ... LIMIT)`
    # may be rescanned by the planner and claim more than `limit` rows.
    sql = (
        f"WITH picked AS (SELECT id FROM {table} WHERE embedding_status = %s "  # noqa: S608  (no user input)
        f"AND (embedding_next_at IS NULL OR embedding_next_at <= %s) ORDER BY id LIMIT %s{lock}) "
        f"UPDATE {table} SET embedding_status = %s, embedding_claimed_at = %s "
        f"WHERE id IN (SELECT id FROM picked) AND embedding_status = %s RETURNING id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Raw SQL gets the value as the ORM would store it (SQLite keeps naive UTC text).
        at = connection.ops.adapt_datetimefield_value(now)
        cursor.execute(sql, [_S.PENDING, at, limit, _S.PROCESSING, at, _S.PENDING])
        return sorted(row[0] for row in cursor.fetchall())


def batch_embed(
    ids: list[int],
    *,
    claimed_at: datetime,
    embedder: Embedder,
    now: Now = timezone.now,
    max_attempts: int = MAX_ATTEMPTS,
    run: QueueRun | None = None,
) -> None:
    """Embed the claimed chunks, one provider call per learner, and record each outcome."""
    run = run if run is not None else QueueRun()
    chunks = list(
        Chunk.objects.filter(pk__in=ids, embedding_status=_S.PROCESSING, embedding_claimed_at=claimed_at)
        .select_related("session")
        .only("pk", "text", "embedding_attempts", "session__learner_id")
        .order_by("pk")
    )
    by_learner: dict[int, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        by_learner[chunk.session.learner_id].append(chunk)
    model = embedding_model_name(embedder)
    for learner_id, group in by_learner.items():
        try:
            with telemetry.context(tenant_type="learner", tenant_id=str(learner_id), feature=FEATURE):
                # Emails and phone numbers in a learner's documents do not go to the provider.
                vectors = embedder.embed([redact_personal(chunk.text) for chunk in group])
            if len(vectors) != len(group):
                raise ProviderError(
                    "provider_bad_response", f"{len(vectors)} vectors came back for {len(group)} passages."
                )
        except Exception as exc:  # any failure of the batch is retried with backoff
            code = getattr(exc, "code", type(exc).__name__)
            run.errors[code] = run.errors.get(code, 0) + len(group)
            retried, failed = _batch_failed(
                group, claimed_at=claimed_at, error=exc, now=now(), max_attempts=max_attempts
            )
            run.retried += retried
            run.failed += failed
            logger.warning("Embedding %d tutor passages failed: %s", len(group), code)
            continue
        run.completed += _batch_completed(group, vectors, claimed_at=claimed_at, model=model)


def _batch_completed(group: list[Chunk], vectors: list, *, claimed_at: datetime, model: str) -> int:
    vector_of = {chunk.pk: vector for chunk, vector in zip(group, vectors, strict=True)}
    with transaction.atomic():
        # Only the rows still claimed by this run, locked until the commit so that the recovery
        # of expired claims cannot hand them out in between; a run that overran its lease
        # stores nothing. Two statements for the whole batch rather than one per passage.
        mine = list(
            Chunk.objects.select_for_update()
            .filter(pk__in=vector_of, embedding_status=_S.PROCESSING, embedding_claimed_at=claimed_at)
            .only("pk")
        )
        for chunk in mine:
            chunk.embedding = np.asarray(vector_of[chunk.pk], dtype="<f4").tobytes()
        Chunk.objects.bulk_update(mine, ["embedding"])
        Chunk.objects.filter(pk__in=[chunk.pk for chunk in mine]).update(
            embedding_status=_S.COMPLETED,
            embedding_model=model,
            embedding_attempts=F("embedding_attempts") + 1,
            embedding_error="",
            embedding_claimed_at=None,
            embedding_next_at=None,
        )
    return len(mine)


def _batch_failed(
    group: list[Chunk], *, claimed_at: datetime, error: Exception, now: datetime, max_attempts: int
) -> tuple[int, int]:
    message = f"{getattr(error, 'code', type(error).__name__)}: {getattr(error, 'message', '')}"[:500]
    retried = failed = 0
    with transaction.atomic():
        for chunk in group:
            attempts = chunk.embedding_attempts + 1
            final = attempts >= max_attempts
            updated = Chunk.objects.filter(
                pk=chunk.pk, embedding_status=_S.PROCESSING, embedding_claimed_at=claimed_at
            ).update(
                embedding_status=_S.FAILED if final else _S.PENDING,
                embedding_attempts=attempts,
                embedding_error=message,
                embedding_claimed_at=None,
                embedding_next_at=None if final else now + timedelta(seconds=backoff_seconds(attempts)),
            )
            if updated:
                failed += final
                retried += not final
    return retried, failed


def expired_claims_recover(
    *, now: datetime, lease_seconds: float = LEASE_SECONDS, max_attempts: int = MAX_ATTEMPTS
) -> int:
    """Give chunks claimed longer than the lease ago back to the queue (or fail them at the limit)."""
    expired = Chunk.objects.filter(
        embedding_status=_S.PROCESSING, embedding_claimed_at__lt=now - timedelta(seconds=lease_seconds)
    )
    with transaction.atomic():
        failed = expired.filter(embedding_attempts__gte=max_attempts - 1).update(
            embedding_status=_S.FAILED,
            embedding_attempts=F("embedding_attempts") + 1,
            embedding_error=f"{EMBEDDING_LEASE_EXPIRED}: the worker embedding it stopped.",
            embedding_claimed_at=None,
        )
        requeued = expired.update(
            embedding_status=_S.PENDING,
            embedding_attempts=F("embedding_attempts") + 1,
            embedding_error=f"{EMBEDDING_LEASE_EXPIRED}: the worker embedding it stopped.",
            embedding_claimed_at=None,
            embedding_next_at=None,
        )
    if failed or requeued:
        logger.info(
            "Embedding queue: %d passages given back, %d failed after a dead worker", requeued, failed
        )
    return requeued + failed


def embedding_queue_enqueue() -> None:
    """Ask a worker to run the queue now (new passages), besides the beat every 30 s."""
    from chatplatform.errors import ApplicationError
    from chatplatform.jobs.services import job_create

    # One wake-up per 10 s slot is enough: a run drains everything that is due.
    slot = int(time.time() // 10)
    try:
        job_create(QUEUE_KIND, {}, idempotency_key=f"tutor-embedding-wake:{slot}")
    except ApplicationError as exc:
        logger.warning("Could not wake the tutor's embedding queue: %s", exc.message)


def vector_from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")
