"""Reads and writes of conversations and messages for the chat pipeline (sync; the async code
calls them through `database_sync_to_async`).

Nothing is written per token: `messages_begin` saves the question (and a placeholder answer with
its streaming session) before the first token, `answer_finish` saves the answer once at the end,
whatever its status, and queues the background record of its context chunks and metrics.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chatplatform.errors import ApplicationError
from conversations.models import ChatbotSettings, Conversation, Flow, Message, StreamingSession

HISTORY_MESSAGES = 20


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class ChatState:
    """What a connection knows about its conversation, so answering needs no extra reads."""

    chatbot: ChatbotSettings
    flows: list[Flow]
    conversation_id: uuid.UUID
    history: list[dict[str, str]] = field(default_factory=list)
    # client_id of each question -> id of its answer, for idempotent resends.
    answers_by_client_id: dict[str, str] = field(default_factory=dict)
    # The chatbot can look orders up (an enabled commerce integration).
    order_tracking: bool = False
    # The flow of the latest answer: an email right after the order flow asked for one stays there.
    last_flow: str = ""
    # The client's address, for per-IP limits; never stored.
    client_ip: str = ""


def chatbot_for_chat(*, chatbot_id: str) -> ChatbotSettings:
    """The active chatbot with this id, or `chatbot_not_found`."""
    chatbot = ChatbotSettings.objects.filter(chatbot_id=chatbot_id, is_active=True).first()
    if chatbot is None:
        raise ApplicationError("chatbot_not_found", f"There is no chatbot '{chatbot_id}'.", status_code=404)
    return chatbot


def conversation_create(*, chatbot: ChatbotSettings, origin: str = "") -> tuple[Conversation, str]:
    """A new conversation and its resume token (shown to the visitor only; stored hashed)."""
    token = secrets.token_urlsafe(24)
    conversation = Conversation.objects.create(
        chatbot=chatbot, token_hash=_token_hash(token), origin=origin[:255]
    )
    return conversation, token


def conversation_by_token(*, chatbot: ChatbotSettings, token: str) -> Conversation:
    conversation = Conversation.objects.filter(chatbot=chatbot, token_hash=_token_hash(token)).first()
    if conversation is None:
        raise ApplicationError(
            "invalid_conversation_token",
            "That conversation does not exist or belongs to another chatbot.",
            status_code=404,
        )
    return conversation


def conversation_get(*, chatbot: ChatbotSettings, conversation_id: uuid.UUID | str) -> Conversation:
    try:
        return Conversation.objects.get(chatbot=chatbot, id=conversation_id)
    except (Conversation.DoesNotExist, ValueError, ValidationError):
        raise ApplicationError(
            "conversation_not_found", "There is no such conversation for this chatbot.", status_code=404
        ) from None


def chat_state_load(*, chatbot: ChatbotSettings, conversation: Conversation) -> ChatState:
    """The chatbot's flows and the conversation's recent history, read once per connection."""
    flows = list(chatbot.flows.all())
    recent = list(
        conversation.messages.exclude(status=Message.Status.STREAMING)
        .order_by("-created_at")
        .values("role", "text", "status", "flow")[:HISTORY_MESSAGES]
    )
    history = [
        {"role": row["role"], "content": row["text"]}
        for row in reversed(recent)
        if row["text"] and row["status"] != Message.Status.FAILED
    ]
    answers = dict(
        Message.objects.filter(conversation=conversation, role=Message.Role.USER)
        .exclude(client_id="")
        .exclude(reply=None)
        .values_list("client_id", "reply__id")
    )
    from tracking.models import CommerceIntegration

    return ChatState(
        chatbot=chatbot,
        flows=flows,
        conversation_id=conversation.id,
        history=history,
        answers_by_client_id={client_id: str(answer_id) for client_id, answer_id in answers.items()},
        order_tracking=CommerceIntegration.objects.filter(chatbot=chatbot, is_enabled=True).exists(),
        last_flow=next((row["flow"] for row in recent if row["role"] == Message.Role.ASSISTANT), ""),
    )


@transaction.atomic
def messages_begin(
    *,
    conversation_id: uuid.UUID,
    user_message_id: uuid.UUID,
    answer_id: uuid.UUID,
    text: str,
    client_id: str,
    flow: str,
    route_reason: str,
    image_id: uuid.UUID | None = None,
) -> None:
    """Save the question, a placeholder for its answer, and the answer's streaming session."""
    question = Message.objects.create(
        id=user_message_id,
        conversation_id=conversation_id,
        role=Message.Role.USER,
        text=text,
        client_id=client_id,
        image_id=image_id,
    )
    answer = Message.objects.create(
        id=answer_id,
        conversation_id=conversation_id,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
        reply_to=question,
        flow=flow,
        route_reason=route_reason[:300],
    )
    StreamingSession.objects.create(message=answer)


@dataclass(frozen=True)
class AnswerOutcome:
    answer_id: str
    text: str
    status: str
    sources: list[dict[str, Any]]
    error_code: str
    token_count: int
    event_count: int
    ttft_ms: float | None
    metrics: dict[str, Any]
    context: list[dict[str, Any]]


@transaction.atomic
def answer_finish(outcome: AnswerOutcome) -> None:
    """Save the answer once, with its final status, and queue its background record."""
    from conversations.chat_tasks import answer_record

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
        ended_at=timezone.now(),
    )
    Conversation.objects.filter(messages__id=outcome.answer_id).update(updated_at=timezone.now())
    transaction.on_commit(lambda: answer_record.delay(outcome.answer_id, outcome.context, outcome.metrics))


def answer_stored(*, answer_id: str) -> Message | None:
    return Message.objects.filter(id=answer_id, role=Message.Role.ASSISTANT).first()
