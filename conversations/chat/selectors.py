"""Reads for the chat: the chatbot a connection or request may use, the state of a
conversation (recent history, answered client ids) and the stored answers.

They are sync; the async edges call them through `database_sync_to_async`.
"""

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from chatplatform.errors import ApplicationError
from conversations.chat.chatbot_configs import ChatbotConfig, chatbot_config
from conversations.chat.conversation_tokens import conversation_token_id, conversation_token_mint
from conversations.chat.models import Conversation, Message
from conversations.chat.origins import origin_allowed
from conversations.models import ChatbotSettings, Flow

if TYPE_CHECKING:
    from conversations.chat.flow_router import FlowProfiles

HISTORY_MESSAGES = 20


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class ChatState:
    """What a connection knows about its conversation, so answering needs no extra reads."""

    chatbot: ChatbotSettings
    flows: list[Flow]
    conversation_id: uuid.UUID
    # The router's view of `flows`, shared by every conversation of the chatbot
    # (`ChatbotConfig.route_profiles`).
    route_profiles: "FlowProfiles"
    history: list[dict[str, str]] = field(default_factory=list)
    # client_id of each question -> id of its answer, for idempotent resends.
    answers_by_client_id: dict[str, str] = field(default_factory=dict)
    # The chatbot can look orders up (an enabled commerce integration).
    order_tracking: bool = False
    # The flow of the latest answer: an email right after the order flow asked for one stays there.
    last_flow: str = ""
    # The client's address, for per-IP limits; never stored.
    client_ip: str = ""
    # Set while the conversation has no row yet: `conversation_save` writes it at the first message.
    unsaved: "UnsavedConversation | None" = None


@dataclass(frozen=True)
class UnsavedConversation:
    """What the row of a conversation announced on connect is made of (`conversation_tokens`)."""

    token_hash: str
    origin: str


def chatbot_for_chat(*, chatbot_id: str) -> ChatbotSettings:
    """The active chatbot with this id, or `chatbot_not_found`.

    Kept in this process between requests and connections (`chatbot_configs`) and shared by
    them: read it, never change it.
    """
    return chatbot_config(chatbot_id=chatbot_id).chatbot


def conversation_by_token(*, chatbot: ChatbotSettings, token: str) -> Conversation:
    conversation = Conversation.objects.filter(chatbot=chatbot, token_hash=token_hash(token)).first()
    if conversation is None:
        raise ApplicationError(
            "invalid_conversation_token",
            "That conversation does not exist or belongs to another chatbot.",
            status_code=404,
        )
    return conversation


def conversation_for_token(*, chatbot: ChatbotSettings, token: str) -> Conversation:
    """The conversation of `token`, or `invalid_conversation_token`. For the token of a chat
    connection that has not sent a message yet (the widget uploads an image first), the
    conversation is not stored yet: `conversation_store` stores it once the upload is accepted."""
    try:
        return conversation_by_token(chatbot=chatbot, token=token)
    except ApplicationError:
        conversation_id = conversation_token_id(chatbot_id=chatbot.chatbot_id, token=token)
        if conversation_id is None:
            raise
    return Conversation(id=conversation_id, chatbot=chatbot, token_hash=token_hash(token))


def conversation_get(*, chatbot: ChatbotSettings, conversation_id: uuid.UUID | str) -> Conversation:
    try:
        return Conversation.objects.get(chatbot=chatbot, id=conversation_id)
    except (Conversation.DoesNotExist, ValueError, ValidationError):
        raise ApplicationError(
            "conversation_not_found", "There is no such conversation for this chatbot.", status_code=404
        ) from None


def chat_state_get(*, chatbot_id: str, conversation_id: uuid.UUID | str) -> ChatState:
    """What a question asked over REST needs: the chatbot's kept settings (`chatbot_config`) and
    the conversation's recent history; `chatbot_not_found` or `conversation_not_found` else."""
    config = chatbot_config(chatbot_id=chatbot_id)
    conversation = conversation_get(chatbot=config.chatbot, conversation_id=conversation_id)
    return _state_of(config, conversation)


def _state_of(config: ChatbotConfig, conversation: Conversation) -> ChatState:
    """The state of an existing conversation: its recent history and answered `client_id`s."""
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
    return ChatState(
        chatbot=config.chatbot,
        flows=list(config.flows),
        conversation_id=conversation.id,
        route_profiles=config.route_profiles,
        history=history,
        answers_by_client_id={client_id: str(answer_id) for client_id, answer_id in answers.items()},
        order_tracking=config.order_tracking,
        last_flow=next((row["flow"] for row in recent if row["role"] == Message.Role.ASSISTANT), ""),
    )


@dataclass(frozen=True)
class ChatOpening:
    """A chat connection's start: its state and the conversation's token."""

    state: ChatState
    token: str
    # The token asked for matched no conversation of this chatbot, so a new one was started.
    token_error: ApplicationError | None = None


def chat_open(*, chatbot_id: str, token: str, origin: str | None, host: str | None) -> ChatOpening:
    """Everything a chat connection needs, in one call: the active chatbot (`chatbot_not_found`)
    if the page's origin may use it (`origin_not_allowed`), its flows, and the conversation of
    `token`, or a new one.

    A new visitor costs no query: the chatbot's settings are kept between connections
    (`chatbot_configs`), and a new conversation has no history to read and no row until its
    first message (`conversation_save`), so connections that send nothing write nothing.
    """
    config = chatbot_config(chatbot_id=chatbot_id)
    chatbot = config.chatbot
    if not origin_allowed(origin, host, chatbot.allowed_origins):
        raise ApplicationError("origin_not_allowed", "This website may not use this chat.", status_code=403)
    token_error = None
    if token:
        try:
            conversation = conversation_by_token(chatbot=chatbot, token=token)
        except ApplicationError as exc:
            conversation_id = conversation_token_id(chatbot_id=chatbot.chatbot_id, token=token)
            if conversation_id is not None:  # announced before, still without a message
                return ChatOpening(_unsaved_state(config, conversation_id, token, origin), token)
            token_error = exc
        else:
            return ChatOpening(_state_of(config, conversation), token)
    conversation_id, token = conversation_token_mint(chatbot_id=chatbot.chatbot_id)
    return ChatOpening(_unsaved_state(config, conversation_id, token, origin), token, token_error)


def _unsaved_state(
    config: ChatbotConfig, conversation_id: uuid.UUID, token: str, origin: str | None
) -> ChatState:
    return ChatState(
        chatbot=config.chatbot,
        flows=list(config.flows),
        conversation_id=conversation_id,
        route_profiles=config.route_profiles,
        order_tracking=config.order_tracking,
        unsaved=UnsavedConversation(token_hash(token), origin or ""),
    )


def answer_stored(*, answer_id: str) -> Message | None:
    return Message.objects.filter(id=answer_id, role=Message.Role.ASSISTANT).first()
