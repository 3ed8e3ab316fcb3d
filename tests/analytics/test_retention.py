"""Retention: conversations and their records older than ANALYTICS_RETENTION_DAYS go in bounded
batches, each timed; newer ones and the daily rollups stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import AnswerRating, ConversationInsight, DailyRollup, ProcessingMetrics
from analytics.records import answers_metrics_record
from analytics.retention import CLEANER_NAME, analytics_cleanup
from chatplatform.retention import cleaners, retention_cleanup
from conversations.chat.models import ContextChunk, Conversation, Message, StreamingSession
from conversations.models import ImageUpload
from tests.analytics.factories import answer, ask, conversation_make
from tests.conversations.factories import ChatbotFactory
from tracking.models import OrderLookup

pytestmark = pytest.mark.django_db


def conversation_with_records(chatbot, start):
    conversation, messages = conversation_make(
        chatbot,
        [ask("Hvor er min ordre?"), answer("Den er afsendt."), ask("Tak"), answer("Velbekomme")],
        start=start,
    )
    answers = [m for m in messages if m.role == Message.Role.ASSISTANT]
    answers_metrics_record([a.id for a in answers])
    ProcessingMetrics.objects.filter(conversation=conversation).update(created_at=start)
    rating = AnswerRating.objects.create(
        answer=answers[0], conversation=conversation, chatbot=chatbot, value="up"
    )
    AnswerRating.objects.filter(pk=rating.pk).update(created_at=start, updated_at=start)
    ContextChunk.objects.create(message=answers[0], rank=1, vector_id="v1", score=0.5, text="Afsendt")
    StreamingSession.objects.create(message=answers[0], status="completed")
    lookup = OrderLookup.objects.create(
        chatbot=chatbot, conversation=conversation, order_hint="**34", outcome=OrderLookup.Outcome.VERIFIED
    )
    OrderLookup.objects.filter(pk=lookup.pk).update(created_at=start)
    return conversation


def test_it_deletes_old_conversations_and_records_in_bounded_batches_and_keeps_the_rest():
    bot = ChatbotFactory()
    now = timezone.now()
    old = [conversation_with_records(bot, now - timedelta(days=40)) for _ in range(3)]
    recent = conversation_with_records(bot, now - timedelta(days=2))
    DailyRollup.objects.create(chatbot=bot, day=(now - timedelta(days=40)).date(), flow="", answers=6)
    batches = []

    deleted = analytics_cleanup(now - timedelta(days=30), batch_size=2, on_batch=batches.append)

    assert deleted == {
        "performance records": 6,
        "ratings": 3,
        "insights": 3,
        "order lookups": 3,
        "context chunks": 3,
        "streaming sessions": 3,
        "answers": 6,
        "messages": 6,
        "conversations": 3,
    }
    assert not Conversation.objects.filter(id__in=[c.id for c in old]).exists()
    assert Conversation.objects.filter(id=recent.id).exists()
    for model in (
        Message,
        ProcessingMetrics,
        AnswerRating,
        ConversationInsight,
        ContextChunk,
        OrderLookup,
        StreamingSession,
    ):
        assert model.objects.exists(), model  # the recent conversation's
    assert Message.objects.count() == 4
    assert DailyRollup.objects.count() == 1
    # A batch of conversations goes whole, in one transaction (its lock), each batch timed on its
    # own; batch_size 2 takes one conversation at a time.
    assert [(b.stage, b.rows) for b in batches] == [("conversations", 12)] * 3
    assert all(b.seconds >= 0 for b in batches)


def test_old_rows_of_a_conversation_still_active_go_and_the_conversation_stays():
    bot = ChatbotFactory()
    now = timezone.now()
    active = conversation_with_records(bot, now - timedelta(days=40))
    Conversation.objects.filter(pk=active.pk).update(updated_at=now)
    batches = []

    deleted = analytics_cleanup(now - timedelta(days=30), batch_size=2, on_batch=batches.append)

    assert deleted["conversations"] == 0
    assert (deleted["performance records"], deleted["ratings"], deleted["order lookups"]) == (2, 1, 1)
    assert Conversation.objects.filter(pk=active.pk).exists()
    assert Message.objects.filter(conversation=active).count() == 4
    assert not ProcessingMetrics.objects.exists()
    assert {b.stage for b in batches} >= {"performance records", "ratings", "order lookups"}


def test_a_batch_still_referred_to_is_deleted_with_its_cascade():
    bot = ChatbotFactory()
    now = timezone.now()
    old = conversation_with_records(bot, now - timedelta(days=40))
    # An image the shopper sent in it, kept by its own retention: it loses its conversation.
    image = ImageUpload.objects.create(
        chatbot=bot, conversation=old, file="images/x.png", format="PNG", width=1, height=1, size=1
    )

    deleted = analytics_cleanup(now - timedelta(days=30))

    assert deleted["conversations"] == 1
    assert not Conversation.objects.exists()
    image.refresh_from_db()
    assert image.conversation_id is None


def test_the_retention_job_applies_analytics_retention_days(settings):
    bot = ChatbotFactory()
    now = timezone.now()
    ten_days_old = conversation_with_records(bot, now - timedelta(days=10))
    assert CLEANER_NAME in cleaners()

    settings.ANALYTICS_RETENTION_DAYS = 30
    retention_cleanup(older_than=now - timedelta(days=1))
    assert Conversation.objects.filter(id=ten_days_old.id).exists()

    settings.ANALYTICS_RETENTION_DAYS = 7
    report = retention_cleanup(older_than=now - timedelta(days=365))
    assert report[CLEANER_NAME] > 0
    assert not Conversation.objects.filter(id=ten_days_old.id).exists()
