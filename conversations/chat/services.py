"""Writes of conversations outside the answer path: a conversation created over REST, and the
row of one announced on a websocket, stored at its first message or image."""

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


def conversation_save(*, state: ChatState) -> None:
    """Store the conversation of a connection that has none stored yet, before its first message
    is saved; nothing when it is stored (by this or another connection with the same token)."""
    if state.unsaved is None:
        return
    conversation_store(
        Conversation(
            id=state.conversation_id,
            chatbot=state.chatbot,
            token_hash=state.unsaved.token_hash,
            origin=state.unsaved.origin[:255],
        )
    )
    state.unsaved = None
