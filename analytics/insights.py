"""One `ConversationInsight` per conversation: its counters and resolution, recomputed whole from
the conversation's rows (messages, performance records, ratings, order lookups), so that running
it twice, or late, gives the same row. Called off the stream: after answers are recorded, on a
rating, and by the periodic refresh.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from analytics.config import quiet_minutes
from analytics.models import AnswerRating, ConversationInsight, ProcessingMetrics
from analytics.resolution import Facts, Resolution, is_confirmation, resolution_judge
from conversations.chat.models import Conversation, Message
from tracking.models import OrderLookup

FAILED_LOOKUPS = (
    OrderLookup.Outcome.NOT_VERIFIED,
    OrderLookup.Outcome.TOO_MANY_ATTEMPTS,
    OrderLookup.Outcome.ERROR,
)
# Statuses of answers that are over (the placeholder of one still streaming is not an answer yet).
ANSWER_DONE = ~Q(status=Message.Status.STREAMING)

_COUNTERS = [
    "started_at",
    "last_message_at",
    "visitor",
    "questions",
    "answers",
    "stopped_answers",
    "not_found_answers",
    "failed_order_lookups",
    "ratings_up",
    "ratings_down",
    "resolution",
    "resolved_at",
    "updated_at",
]


def insights_refresh(conversation_ids: Iterable, *, now: datetime | None = None) -> int:
    """Recompute the insights of these conversations (a few hundred at a time); returns how many
    rows were written. Conversations without messages get none."""
    now = now or timezone.now()
    ids = list(dict.fromkeys(str(pk) for pk in conversation_ids))
    written = 0
    for start in range(0, len(ids), 500):
        written += _refresh_batch(ids[start : start + 500], now)
    return written


def _refresh_batch(ids: list[str], now: datetime) -> int:
    conversations = {
        str(c.id): c for c in Conversation.objects.filter(id__in=ids).only("id", "chatbot_id", "token_hash")
    }
    if not conversations:
        return 0
    counts = {
        str(row["conversation_id"]): row
        for row in Message.objects.filter(conversation_id__in=conversations)
        .values("conversation_id")
        .annotate(
            first=Min("created_at"),
            last=Max("created_at"),
            questions=Count("id", filter=Q(role=Message.Role.USER)),
            answers=Count("id", filter=Q(role=Message.Role.ASSISTANT) & ANSWER_DONE),
            stopped=Count("id", filter=Q(role=Message.Role.ASSISTANT, status=Message.Status.STOPPED)),
        )
    }
    not_found = _count_by(ProcessingMetrics.objects.filter(conversation_id__in=conversations, not_found=True))
    lookups = _count_by(
        OrderLookup.objects.filter(conversation_id__in=conversations, outcome__in=FAILED_LOOKUPS)
    )
    ratings_up = _count_by(AnswerRating.objects.filter(conversation_id__in=conversations, value="up"))
    ratings_down = _count_by(AnswerRating.objects.filter(conversation_id__in=conversations, value="down"))
    facts = _facts(list(counts))
    existing = {
        str(i.conversation_id): i for i in ConversationInsight.objects.filter(conversation_id__in=counts)
    }
    assume_after = timedelta(minutes=quiet_minutes()["resolution_assumed"])
    rows = []
    for pk, count in counts.items():
        current = existing.get(pk)
        resolution = resolution_judge(
            facts[pk],
            now=now,
            assume_after=assume_after,
            current=Resolution(current.resolution, current.resolved_at) if current else None,
        )
        rows.append(
            ConversationInsight(
                conversation_id=pk,
                chatbot_id=conversations[pk].chatbot_id,
                started_at=count["first"],
                last_message_at=count["last"],
                # The hash of the conversation's resume token: opaque, and the same for a visitor
                # who comes back to the conversation.
                visitor=conversations[pk].token_hash[:32],
                questions=count["questions"],
                answers=count["answers"],
                stopped_answers=count["stopped"],
                not_found_answers=not_found.get(pk, 0),
                failed_order_lookups=lookups.get(pk, 0),
                ratings_up=ratings_up.get(pk, 0),
                ratings_down=ratings_down.get(pk, 0),
                resolution=resolution.value,
                resolved_at=resolution.at,
            )
        )
    with transaction.atomic():
        ConversationInsight.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["conversation"], update_fields=_COUNTERS
        )
    return len(rows)


def _count_by(queryset) -> dict[str, int]:
    return {
        str(row["conversation_id"]): row["n"]
        for row in queryset.values("conversation_id").annotate(n=Count("id")).order_by()
    }


def _facts(ids: list[str]) -> dict[str, Facts]:
    """What the resolution rules need, from the conversations' messages (newest few per
    conversation would do; conversations are short, so all of them are read)."""
    messages = defaultdict(list)
    for row in (
        Message.objects.filter(conversation_id__in=ids)
        .filter(Q(role=Message.Role.USER) | ANSWER_DONE)
        .order_by("created_at")
        .values("id", "conversation_id", "role", "text", "status", "created_at")
    ):
        messages[str(row["conversation_id"])].append(row)
    answer_ids = [
        row["id"] for rows in messages.values() for row in rows if row["role"] == Message.Role.ASSISTANT
    ]
    not_found = set(
        ProcessingMetrics.objects.filter(answer_id__in=answer_ids, not_found=True).values_list(
            "answer_id", flat=True
        )
    )
    ratings = {
        row["answer_id"]: (row["value"], row["updated_at"])
        for row in AnswerRating.objects.filter(answer_id__in=answer_ids).values(
            "answer_id", "value", "updated_at"
        )
    }
    facts = {}
    for pk in ids:
        last_question = last_confirmation = last_answer = None
        for row in messages.get(pk, []):
            if row["role"] == Message.Role.USER:
                if is_confirmation(row["text"]):
                    last_confirmation = row
                else:
                    last_question = row
            else:
                last_answer = row
        rating = ratings.get(last_answer["id"]) if last_answer else None
        went_well = bool(
            last_answer
            and last_answer["status"] == Message.Status.COMPLETED
            and last_answer["id"] not in not_found
            and (rating is None or rating[0] == "up")
        )
        rows = messages.get(pk, [])
        facts[pk] = Facts(
            last_question_at=last_question["created_at"] if last_question else None,
            last_confirmation_at=last_confirmation["created_at"] if last_confirmation else None,
            last_answer_at=last_answer["created_at"] if last_answer else None,
            last_answer_went_well=went_well,
            last_answer_rated_up_at=rating[1] if rating and rating[0] == "up" else None,
            last_message_at=rows[-1]["created_at"] if rows else None,
        )
    return facts


def insights_due(*, now: datetime | None = None, limit: int = 2000) -> list:
    """Conversations whose resolution may change with time alone: open ones quiet longer than
    the assume time (they settle), newest activity first."""
    now = now or timezone.now()
    assume_after = timedelta(minutes=quiet_minutes()["resolution_assumed"])
    return list(
        ConversationInsight.objects.filter(
            resolution=ConversationInsight.Resolution.OPEN, last_message_at__lte=now - assume_after
        )
        .order_by("-last_message_at")
        .values_list("conversation_id", flat=True)[:limit]
    )
