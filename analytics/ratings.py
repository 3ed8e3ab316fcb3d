"""Visitors' thumbs up or down on answers, over REST and as the chat socket's `rating` frame.

One rating per answer: rating again replaces the value. Only a finished answer of the same
conversation can be rated; each refusal has its own code.
"""

from __future__ import annotations

import uuid
from typing import Any

from channels.db import database_sync_to_async
from django.db import transaction

from analytics.insights import insights_refresh
from analytics.models import AnswerRating
from chatplatform.errors import ApplicationError
from conversations.chat.models import Message
from conversations.chat.selectors import ChatState

VALUES = tuple(AnswerRating.Value.values)


def answer_rate(*, conversation_id: uuid.UUID | str, message_id: Any, value: Any) -> AnswerRating:
    """Rate the answer `message_id` of conversation `conversation_id` (already checked to belong
    to the caller's chatbot) `up` or `down`, and refresh the conversation's insight."""
    if value not in VALUES:
        raise ApplicationError(
            "invalid_rating",
            'A rating is "up" or "down".',
            status_code=400,
            fields={"value": ['Must be "up" or "down".']},
        )
    answer = _message_of(conversation_id, message_id)
    if answer.role != Message.Role.ASSISTANT:
        raise ApplicationError("message_not_an_answer", "Only answers can be rated.", status_code=400)
    if answer.status == Message.Status.STREAMING:
        raise ApplicationError(
            "answer_in_progress", "The answer can be rated once it has finished.", status_code=409
        )
    with transaction.atomic():
        rating, _ = AnswerRating.objects.update_or_create(
            answer=answer,
            defaults={
                "value": value,
                "conversation_id": answer.conversation_id,
                "chatbot_id": answer.conversation.chatbot_id,
            },
        )
    insights_refresh([answer.conversation_id])
    return rating


def _message_of(conversation_id, message_id) -> Message:
    try:
        message_uuid = uuid.UUID(str(message_id))
    except ValueError:
        message_uuid = None
    answer = (
        Message.objects.select_related("conversation")
        .filter(id=message_uuid, conversation_id=conversation_id)
        .first()
        if message_uuid
        else None
    )
    if answer is None:
        # Unknown, or another conversation's: the same answer, so that ids cannot be probed.
        raise ApplicationError(
            "message_not_found", "There is no such message in this conversation.", status_code=404
        )
    return answer


async def rating_frame(state: ChatState, event: dict[str, Any]) -> dict[str, Any]:
    """The chat socket's `{"type": "rating", "message_id", "value"}`: answered with `rated`."""
    rating = await database_sync_to_async(answer_rate)(
        conversation_id=state.conversation_id, message_id=event.get("message_id"), value=event.get("value")
    )
    return {"type": "rated", "message_id": str(rating.answer_id), "value": rating.value}
