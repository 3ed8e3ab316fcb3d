"""Retention of conversations and their records: after ANALYTICS_RETENTION_DAYS the performance
records, ratings, insights, order lookups, context chunks, messages and conversations go; the
daily rollups stay.

Rows are deleted in batches of ANALYTICS_RETENTION_BATCH_SIZE ids, each batch its own short
transaction, so that no lock is held long and the chat goes on writing meanwhile. Children go
before their parents, so that a parent's batch finds little left to cascade to.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from analytics.models import AnswerRating, ConversationInsight, ProcessingMetrics
from chatplatform.retention import register_cleaner
from conversations.chat.models import ContextChunk, Conversation, Message
from tracking.models import OrderLookup

logger = logging.getLogger(__name__)

CLEANER_NAME = "conversations and their analytics (ANALYTICS_RETENTION_DAYS)"


@dataclass(frozen=True)
class Batch:
    """One DELETE: which table, how many rows it removed (cascades included), how long its
    transaction took."""

    stage: str
    rows: int
    seconds: float


OnBatch = Callable[[Batch], None]


def _stages(older_than: datetime) -> list[tuple[str, QuerySet]]:
    # A conversation is old when its last activity is (`updated_at` moves with every answer).
    old_conversations = Conversation.objects.filter(updated_at__lt=older_than)
    return [
        ("performance records", ProcessingMetrics.objects.filter(created_at__lt=older_than)),
        ("ratings", AnswerRating.objects.filter(updated_at__lt=older_than)),
        ("insights", ConversationInsight.objects.filter(last_message_at__lt=older_than)),
        ("order lookups", OrderLookup.objects.filter(created_at__lt=older_than)),
        ("context chunks", ContextChunk.objects.filter(message__created_at__lt=older_than)),
        # Answers before questions: an answer cascades from its question (`reply_to`).
        (
            "answers",
            Message.objects.filter(
                role=Message.Role.ASSISTANT, conversation__in=old_conversations.values("id")
            ),
        ),
        ("messages", Message.objects.filter(conversation__in=old_conversations.values("id"))),
        ("conversations", old_conversations),
    ]


def analytics_cleanup(
    older_than: datetime, *, batch_size: int | None = None, on_batch: OnBatch | None = None
) -> dict[str, int]:
    """Delete what is older than `older_than`, stage by stage in batches; returns the rows each
    stage deleted (cascaded rows included). `on_batch` hears of every batch with its duration,
    for the benchmark's longest lock."""
    batch_size = batch_size or settings.ANALYTICS_RETENTION_BATCH_SIZE
    deleted: dict[str, int] = {}
    for stage, queryset in _stages(older_than):
        deleted[stage] = _delete_in_batches(stage, queryset, batch_size=batch_size, on_batch=on_batch)
    return deleted


def _delete_in_batches(stage: str, queryset: QuerySet, *, batch_size: int, on_batch: OnBatch | None) -> int:
    model = queryset.model
    total = 0
    while True:
        started = time.perf_counter()
        with transaction.atomic():
            ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
            if not ids:
                return total
            _, per_model = model.objects.filter(pk__in=ids).delete()
        rows = sum(per_model.values())
        total += rows
        if on_batch is not None:
            on_batch(Batch(stage=stage, rows=rows, seconds=time.perf_counter() - started))
        if len(ids) < batch_size:
            return total


def analytics_retention_cleaner(older_than: datetime) -> int:
    """The retention job's cleaner: applies ANALYTICS_RETENTION_DAYS, not the job's own cut-off."""
    cutoff = timezone.now() - timedelta(days=settings.ANALYTICS_RETENTION_DAYS)
    deleted = analytics_cleanup(cutoff)
    logger.info("Analytics retention: %s", deleted)
    return sum(deleted.values())


def cleaners_register() -> None:
    register_cleaner(CLEANER_NAME, analytics_retention_cleaner)
