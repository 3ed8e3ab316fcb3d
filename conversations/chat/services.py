"""Writes of conversations outside the answer path: a conversation created over REST, and the
row of one announced on a websocket, stored with its first question (`writes`) or image."""

import secrets

from conversations.chat.models import Conversation
from conversations.chat.selectors import ChatState, token_hash
from conversations.models import ChatbotSettings


def conversation_create(*, chatbot: ChatbotSettings, origin: str = "") -> tuple[Conversation, str]:
    """A new conversation and its resume token (shown to the visitor only; stored hashed)."""
    token = secrets.token_urlsafe(24)
    conversation = Conversation.objects.create(
        chatbot=chatbot, token_hash=token_hash(token), origin=origin[:255]
    )
    return conversation, token


def conversation_store(conversation: Conversation) -> None:
    """Store a conversation of `conversation_for_token` if it is not stored yet."""
    if conversation._state.adding:
        # Two connections with the same token may both store it: the second insert does nothing.
        Conversation.objects.bulk_create([conversation], ignore_conflicts=True)


def conversation_row(*, state: ChatState) -> Conversation | None:
    """The row of a conversation announced on connect and not stored yet, which its first
    question's write stores (`writes.questions_insert`); None once stored."""
    if state.unsaved is None:
        return None
    return Conversation(
        id=state.conversation_id,
        chatbot=state.chatbot,
        token_hash=state.unsaved.token_hash,
        origin=state.unsaved.origin[:255],
    )


def conversation_save(*, state: ChatState) -> None:
    """Store the conversation of a connection that has none stored yet; nothing when it is
    stored (by this or another connection with the same token)."""
    conversation = conversation_row(state=state)
    if conversation is None:
        return
    conversation_store(conversation)
    state.unsaved = None
