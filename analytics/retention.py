"""Retention of conversations and their records: after ANALYTICS_RETENTION_DAYS the performance
records, ratings, insights, order lookups, context chunks, messages and conversations go; the
daily rollups stay.

Rows are deleted in batches of ANALYTICS_RETENTION_BATCH_SIZE ids, each batch its own short
transaction (`chatplatform.retention.delete_in_batches`), so that no lock is held long and the
chat goes on writing meanwhile. Children go before their parents, so that a parent's batch finds
little left to cascade to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from analytics.models import AnswerRating, ConversationInsight, ProcessingMetrics
from chatplatform.retention import Batch, delete_in_batches, register_cleaner
from conversations.chat.models import ContextChunk, Conversation, Message, StreamingSession
from tracking.models import OrderLookup

logger = logging.getLogger(__name__)

CLEANER_NAME = "conversations and their analytics (ANALYTICS_RETENTION_DAYS)"


OnBatch = Callable[[Batch], None]


def _stages(older_than: datetime) -> list[tuple[str, QuerySet, bool]]:
    """(name, rows, single statement): leaves first, so that messages and conversations go with
    one DELETE per batch, nothing left referring to them."""
    # A conversation is old when its last activity is (`updated_at` moves with every answer).
    old_conversations = Conversation.objects.filter(updated_at__lt=older_than).values("id")
    old_messages = Message.objects.filter(conversation__in=old_conversations).values("id")
    return [
        ("performance records", ProcessingMetrics.objects.filter(created_at__lt=older_than), False),
        ("ratings", AnswerRating.objects.filter(updated_at__lt=older_than), False),
        ("insights", ConversationInsight.objects.filter(last_message_at__lt=older_than), False),
        ("order lookups", OrderLookup.objects.filter(created_at__lt=older_than), False),
        ("context chunks", ContextChunk.objects.filter(message__created_at__lt=older_than), False),
        # What else refers to the old conversations' messages and to the conversations.
        ("context chunks", ContextChunk.objects.filter(message__in=old_messages), False),
        ("streaming sessions", StreamingSession.objects.filter(message__in=old_messages), False),
        ("performance records", ProcessingMetrics.objects.filter(conversation__in=old_conversations), False),
        ("ratings", AnswerRating.objects.filter(conversation__in=old_conversations), False),
        ("insights", ConversationInsight.objects.filter(conversation__in=old_conversations), False),
        # Answers before questions: an answer refers to its question (`reply_to`).
        (
            "answers",
            Message.objects.filter(role=Message.Role.ASSISTANT, conversation__in=old_conversations),
            True,
        ),
        ("messages", Message.objects.filter(conversation__in=old_conversations), True),
        ("conversations", Conversation.objects.filter(updated_at__lt=older_than), True),
    ]


def analytics_cleanup(
    older_than: datetime, *, batch_size: int | None = None, on_batch: OnBatch | None = None
) -> dict[str, int]:
    """Delete what is older than `older_than`, stage by stage in batches; returns the rows each
    stage deleted (cascaded rows included). `on_batch` hears of every batch with its duration,
    for the benchmark's longest lock."""
    batch_size = batch_size or settings.ANALYTICS_RETENTION_BATCH_SIZE
    deleted: dict[str, int] = {}
    for stage, queryset, single_statement in _stages(older_than):
        deleted[stage] = deleted.get(stage, 0) + delete_in_batches(
            stage, queryset, batch_size=batch_size, on_batch=on_batch, single_statement=single_statement
        )
    return deleted


def analytics_retention_cleaner(older_than: datetime) -> int:
    """The retention job's cleaner: applies ANALYTICS_RETENTION_DAYS, not the job's own cut-off."""
    cutoff = timezone.now() - timedelta(days=settings.ANALYTICS_RETENTION_DAYS)
    deleted = analytics_cleanup(cutoff)
    logger.info("Analytics retention: %s", deleted)
    return sum(deleted.values())


def cleaners_register() -> None:
    register_cleaner(CLEANER_NAME, analytics_retention_cleaner)
