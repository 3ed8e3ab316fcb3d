"""Conversations made turn by turn at given times, for the analytics records' tests."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from conversations.chat.models import Conversation, Message
from conversations.models import ChatbotSettings

Q, A = Message.Role.USER, Message.Role.ASSISTANT


@dataclass(frozen=True)
class Turn:
    role: str
    text: str
    status: str = Message.Status.COMPLETED
    flow: str = "default"
    metrics: dict | None = None


def ask(text: str) -> Turn:
    return Turn(Q, text)


def answer(text: str, status: str = Message.Status.COMPLETED, **fields) -> Turn:
    return Turn(A, text, status, **fields)


def conversation_make(
    chatbot: ChatbotSettings, turns: list[Turn], *, start: datetime, step: timedelta = timedelta(minutes=1)
) -> tuple[Conversation, list[Message]]:
    """A stored conversation whose turns are `step` apart from `start`; answers reply to the
    question before them. `updated_at` is the last turn's time."""
    conversation = Conversation.objects.create(
        chatbot=chatbot, token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    )
    messages: list[Message] = []
    question = None
    at = start
    for turn in turns:
        message = Message.objects.create(
            conversation=conversation,
            role=turn.role,
            text=turn.text,
            status=turn.status if turn.role == A else Message.Status.COMPLETED,
            flow=turn.flow if turn.role == A else "",
            reply_to=question if turn.role == A else None,
            metrics=turn.metrics or {},
        )
        Message.objects.filter(pk=message.pk).update(created_at=at)
        message.created_at = at
        messages.append(message)
        question = message if turn.role == Q else None
        at += step
    Conversation.objects.filter(pk=conversation.pk).update(created_at=start, updated_at=at - step)
    conversation.refresh_from_db()
    return conversation, messages
