"""Raw analytics rows with the times a test chooses: conversations with their insight, answers with
their performance record, ratings and order lookups (the auto timestamps are overwritten)."""

import secrets
from datetime import datetime

from analytics.models import AnswerRating, ConversationInsight, ProcessingMetrics
from conversations.models import ChatbotSettings, Conversation, Message
from tracking.models import OrderLookup


def conversation(
    chatbot: ChatbotSettings,
    at: datetime,
    *,
    visitor: str = "",
    topic: str = "",
    score: int | None = None,
    resolution: str = "open",
    analysed_at: datetime | None = None,
) -> Conversation:
    convo = Conversation.objects.create(chatbot=chatbot, token_hash=secrets.token_hex(32))
    Conversation.objects.filter(pk=convo.pk).update(created_at=at)
    insight = ConversationInsight.objects.create(
        conversation=convo,
        chatbot=chatbot,
        started_at=at,
        last_message_at=at,
        visitor=visitor,
        topic=topic,
        score=score,
        resolution=resolution,
        analysed_at=analysed_at or (at if score is not None or topic else None),
    )
    # Written when it happened, as the chat would have (the rollup reads the write's time).
    ConversationInsight.objects.filter(pk=insight.pk).update(updated_at=max(at, analysed_at or at))
    return convo


def answer(
    convo: Conversation,
    at: datetime,
    *,
    flow: str = "default",
    status: str = "completed",
    ttft_ms: float | None = 500.0,
    tokens_per_s: float | None = 40.0,
    output_tokens: int | None = 100,
    not_found: bool = False,
    error_code: str = "",
    **phases: float,
) -> Message:
    """A question and its answer at `at`, with the answer's performance record."""
    question = Message.objects.create(conversation=convo, role=Message.Role.USER, text="Hvor er min ordre?")
    reply = Message.objects.create(
        conversation=convo,
        role=Message.Role.ASSISTANT,
        text="Svar",
        reply_to=question,
        flow=flow,
        status=status,
        error_code=error_code,
    )
    Message.objects.filter(pk__in=[question.pk, reply.pk]).update(created_at=at)
    ProcessingMetrics.objects.create(
        chatbot_id=convo.chatbot_id,
        conversation=convo,
        answer=reply,
        flow=flow,
        provider="local",
        model="local",
        ttft_ms=ttft_ms,
        tokens_per_s=tokens_per_s,
        output_tokens=output_tokens,
        total_ms=(ttft_ms or 0) + 300,
        status=status,
        error_code=error_code,
        not_found=not_found,
        created_at=at,
        **phases,
    )
    return reply


def rating(reply: Message, value: str, at: datetime) -> AnswerRating:
    row = AnswerRating.objects.create(
        answer=reply,
        conversation_id=reply.conversation_id,
        chatbot_id=reply.conversation.chatbot_id,
        value=value,
    )
    AnswerRating.objects.filter(pk=row.pk).update(created_at=at, updated_at=at)
    return row


def order_lookup(chatbot: ChatbotSettings, outcome: str, at: datetime, convo: Conversation | None = None):
    row = OrderLookup.objects.create(
        chatbot=chatbot, conversation=convo, order_hint="10**1", outcome=outcome, duration_ms=120.0
    )
    OrderLookup.objects.filter(pk=row.pk).update(created_at=at)
    return row
