"""Retention of conversations and their records: after ANALYTICS_RETENTION_DAYS the performance
records, ratings, insights, order lookups, context chunks, messages and conversations go; the
daily rollups stay.

Old conversations (by `updated_at`, indexed) go a batch at a time: everything that hangs on a
batch of conversations is deleted with one DELETE per table, children before parents, in one
short transaction, so that no lock is held long, nothing is left half-deleted and the chat goes
on writing meanwhile. Then what is old but belongs to a conversation still active (a record of
its first answer, say) goes in batches of ids (`chatplatform.retention.delete_in_batches`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models.deletion import Collector, get_candidate_relations_to_delete
from django.utils import timezone

from analytics.models import AnswerRating, ConversationInsight, ProcessingMetrics
from chatplatform.retention import Batch, delete_in_batches, ids_condition, register_cleaner
from conversations.chat.models import ContextChunk, Conversation, Message, StreamingSession
from tracking.models import OrderLookup

logger = logging.getLogger(__name__)

CLEANER_NAME = "conversations and their analytics (ANALYTICS_RETENTION_DAYS)"
# A conversation brings a few rows per answer: a batch of conversations is this much smaller
# than a batch of ids, so that its transaction stays as short.
ROWS_PER_CONVERSATION = 4

OnBatch = Callable[[Batch], None]

# (stage, model, its column referring to the conversation, or to one of its messages), in the
# order they are deleted: children first; answers before questions (an answer's `reply_to`).
_CONVERSATION_PARTS = [
    ("performance records", ProcessingMetrics, "conversation", None),
    ("ratings", AnswerRating, "conversation", None),
    ("insights", ConversationInsight, "conversation", None),
    ("order lookups", OrderLookup, "conversation", None),
    ("context chunks", ContextChunk, "message", None),
    ("streaming sessions", StreamingSession, "message", None),
    ("answers", Message, "conversation", Message.Role.ASSISTANT),
    ("messages", Message, "conversation", None),
]
# References the batch deletes along (every other one sends the batch Django's way).
_HANDLED = {
    (ProcessingMetrics, "answer"),
    (AnswerRating, "answer"),
    (Message, "reply_to"),
    *((model, field) for _, model, field, _ in _CONVERSATION_PARTS),
}


def _unhandled_relations() -> list:
    """The relations to a conversation, its messages or the rows deleted with them that the
    batch's statements do not cover (an image kept by IMAGE_RETENTION_DAYS, say)."""
    models = {Conversation, Message, *(model for _, model, _, _ in _CONVERSATION_PARTS)}
    return [
        relation
        for model in models
        for relation in get_candidate_relations_to_delete(model._meta)
        if (relation.related_model, relation.field.name) not in _HANDLED
    ]


# How each model deleted with a conversation reaches it, for `_referred_to`'s lookups.
_PATH_TO_CONVERSATION = {
    Conversation: "",
    Message: "conversation",
    ProcessingMetrics: "conversation",
    AnswerRating: "conversation",
    ConversationInsight: "conversation",
    OrderLookup: "conversation",
    ContextChunk: "message__conversation",
    StreamingSession: "message__conversation",
}


def _referred_to(ids: list, relations: list, using: str) -> bool:
    for relation in relations:
        path = "__".join(filter(None, [relation.field.name, _PATH_TO_CONVERSATION[relation.model]]))
        if relation.related_model._base_manager.using(using).filter(**{f"{path}__in": ids}).exists():
            return True
    return False


def _conversations_delete(ids: list, using: str) -> dict[str, int]:
    """Delete these conversations and what hangs on them, one statement per table; call inside
    a transaction."""
    connection = connections[using]
    quote = connection.ops.quote_name
    values = [Conversation._meta.pk.get_db_prep_value(pk, connection) for pk in ids]
    messages = Message._meta.db_table
    conversation_column = Message._meta.get_field("conversation").column
    message_pk = quote(Message._meta.pk.column)
    deleted: dict[str, int] = {}
    with connection.cursor() as cursor:
        for stage, model, field_name, role in _CONVERSATION_PARTS:
            column = quote(model._meta.get_field(field_name).column)
            if field_name == "message":
                in_batch, params = ids_condition(connection, quote(conversation_column), values)
                in_batch = f"{column} IN (SELECT {message_pk} FROM {quote(messages)} WHERE {in_batch})"  # noqa: S608
            else:
                in_batch, params = ids_condition(connection, column, values)
            if role is not None:
                in_batch += f" AND {quote(Message._meta.get_field('role').column)} = %s"
                params = [*params, role]
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)} WHERE {in_batch}", params)  # noqa: S608
            deleted[stage] = deleted.get(stage, 0) + cursor.rowcount
        in_batch, params = ids_condition(connection, quote(Conversation._meta.pk.column), values)
        cursor.execute(f"DELETE FROM {quote(Conversation._meta.db_table)} WHERE {in_batch}", params)  # noqa: S608
        deleted["conversations"] = cursor.rowcount
    return deleted


def _conversations_delete_django(ids: list, using: str) -> dict[str, int]:
    """Django's delete, with its cascades and SET NULLs, for a batch something else refers to."""
    collector = Collector(using=using, origin=Conversation._base_manager.using(using).filter(pk__in=ids))
    collector.collect(Conversation._base_manager.using(using).filter(pk__in=ids))
    _, per_model = collector.delete()
    labels = {model._meta.label: stage for stage, model, _, _ in _CONVERSATION_PARTS}
    labels[Message._meta.label] = "messages"
    labels[Conversation._meta.label] = "conversations"
    deleted: dict[str, int] = {}
    for label, rows in per_model.items():
        stage = labels.get(label, label)
        deleted[stage] = deleted.get(stage, 0) + rows
    return deleted


def old_conversations_delete(
    older_than: datetime, *, batch_size: int, on_batch: OnBatch | None = None
) -> dict[str, int]:
    """Delete the conversations last active before `older_than` and everything hanging on them,
    in batches, oldest first; returns the rows deleted per stage."""
    using = router.db_for_write(Conversation)
    per_batch = max(1, batch_size // ROWS_PER_CONVERSATION)
    relations = _unhandled_relations()
    deleted = {stage: 0 for stage, *_ in _CONVERSATION_PARTS} | {"conversations": 0}
    after = None
    while True:
        old = Conversation.objects.using(using).filter(updated_at__lt=older_than)
        if after is not None:  # the earlier batches are gone: start where the last one ended
            old = old.filter(updated_at__gte=after)
        found = list(old.order_by("updated_at", "pk").values_list("pk", "updated_at")[:per_batch])
        if not found:
            return deleted
        after = found[-1][1]
        started = time.perf_counter()
        try:
            with transaction.atomic(using=using):
                # Lock them, and leave out any that a new message made active meanwhile.
                ids = list(
                    Conversation.objects.using(using)
                    .select_for_update()
                    .filter(pk__in=[pk for pk, _ in found], updated_at__lt=older_than)
                    .values_list("pk", flat=True)
                )
                if ids and _referred_to(ids, relations, using):
                    rows = _conversations_delete_django(ids, using)
                else:
                    rows = _conversations_delete(ids, using) if ids else {}
        except IntegrityError:  # a reference arrived meanwhile: Django's way finds it
            started = time.perf_counter()
            with transaction.atomic(using=using):
                rows = _conversations_delete_django([pk for pk, _ in found], using)
        seconds = time.perf_counter() - started
        for stage, count in rows.items():
            deleted[stage] = deleted.get(stage, 0) + count
        if on_batch is not None:
            on_batch(Batch(stage="conversations", rows=sum(rows.values()), seconds=seconds))
        if len(found) < per_batch:
            return deleted


def analytics_cleanup(
    older_than: datetime, *, batch_size: int | None = None, on_batch: OnBatch | None = None
) -> dict[str, int]:
    """Delete what is older than `older_than`: the old conversations with everything hanging on
    them, then the old rows of the conversations still active; returns the rows each stage
    deleted. `on_batch` hears of every batch with its duration, for the benchmark's longest
    lock."""
    batch_size = batch_size or settings.ANALYTICS_RETENTION_BATCH_SIZE
    deleted = old_conversations_delete(older_than, batch_size=batch_size, on_batch=on_batch)
    # Leaves (nothing refers to them): one DELETE per batch of ids.
    for stage, queryset in (
        ("performance records", ProcessingMetrics.objects.filter(created_at__lt=older_than)),
        ("ratings", AnswerRating.objects.filter(updated_at__lt=older_than)),
        ("insights", ConversationInsight.objects.filter(last_message_at__lt=older_than)),
        ("order lookups", OrderLookup.objects.filter(created_at__lt=older_than)),
        ("context chunks", ContextChunk.objects.filter(message__created_at__lt=older_than)),
    ):
        deleted[stage] = deleted.get(stage, 0) + delete_in_batches(
            stage, queryset, batch_size=batch_size, on_batch=on_batch, single_statement=True
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
