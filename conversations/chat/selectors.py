"""Reads and writes of conversations and messages for the chat pipeline (sync; the async code
calls them through `database_sync_to_async`).

Nothing is written per token: `messages_begin` saves questions (and a placeholder answer with
its streaming session for each) before the first token, `answers_finish` saves answers once at
the end, whatever their status, and queues the background record of their context chunks. Both
take several at once; `conversations.chat.writes` gathers the pipeline's writes into batches.
"""

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from chatplatform.errors import ApplicationError
from conversations.chat import bulk_sql
from conversations.chat.chatbot_configs import ChatbotConfig, chatbot_config
from conversations.chat.conversation_tokens import conversation_token_id, conversation_token_mint
from conversations.chat.origins import origin_allowed
from conversations.chat.web_process import process_id
from conversations.models import ChatbotSettings, Conversation, Flow, Message, StreamingSession

if TYPE_CHECKING:
    from conversations.chat.flow_router import FlowProfiles

HISTORY_MESSAGES = 20


def _token_hash(token: str) -> str:
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
    return Conversation(id=conversation_id, chatbot=chatbot, token_hash=_token_hash(token))


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
        unsaved=UnsavedConversation(_token_hash(token), origin or ""),
    )


@dataclass(frozen=True)
class QuestionRecord:
    """A question to save before its answer's first token."""

    conversation_id: uuid.UUID
    user_message_id: uuid.UUID
    answer_id: uuid.UUID
    text: str
    client_id: str = ""
    flow: str = ""
    route_reason: str = ""
    image_id: uuid.UUID | None = None


@bulk_sql.in_statements
def messages_begin(records: Sequence[QuestionRecord]) -> None:
    """Save questions, a placeholder for each answer, and the answers' streaming sessions, all or
    none: one INSERT per table for any number of them, sent as one statement on PostgreSQL.

    Plain INSERTs (`bulk_sql`), because this runs before the first token of
    every answer, a hundred at a time under load: the columns that are the same in every row are
    literals of the statement, and only what differs per row is a parameter (about a third of
    `bulk_create`'s CPU), and the one statement is one round trip (bench/HISTORY.md).
    """
    if not records:
        return
    as_uuid = bulk_sql.uuid_param()
    at = timezone.now()
    n = len(records)
    # Each row its own microsecond, answers after questions: `created_at` orders a conversation.
    stamps = [connection.ops.adapt_datetimefield_value(at + timedelta(microseconds=i)) for i in range(2 * n)]
    questions = bulk_sql.insert(
        Message,
        ("id", "conversation", "text", "client_id", "image", "created_at"),
        [
            (
                as_uuid(r.user_message_id),
                as_uuid(r.conversation_id),
                r.text,
                r.client_id,
                as_uuid(r.image_id) if r.image_id else None,
                stamps[i],
            )
            for i, r in enumerate(records)
        ],
        constants={"role": Message.Role.USER, "status": Message.Status.COMPLETED, **_QUESTION_CONSTANTS},
    )
    placeholders = bulk_sql.insert(
        Message,
        ("id", "conversation", "reply_to", "flow", "route_reason", "created_at"),
        [
            (
                as_uuid(r.answer_id),
                as_uuid(r.conversation_id),
                as_uuid(r.user_message_id),
                r.flow,
                r.route_reason[:300],
                stamps[n + i],
            )
            for i, r in enumerate(records)
        ],
        constants={"role": Message.Role.ASSISTANT, "status": Message.Status.STREAMING, **_ANSWER_CONSTANTS},
    )
    sessions = bulk_sql.insert(
        StreamingSession,
        ("message", "started_at"),
        [(as_uuid(r.answer_id), stamps[n + i]) for i, r in enumerate(records)],
        constants={
            "status": StreamingSession.Status.STREAMING,
            # Which process streams it, for the sweeper (`web_process`).
            "owner": process_id(),
            "token_count": 0,
            "event_count": 0,
            "error_code": "",
        },
    )
    bulk_sql.run_together(questions, placeholders, sessions)


# The model's defaults of the columns `messages_begin` does not take from the record
# (tests/conversations/chat/test_writes.py compares them with the model's).
_UNSET = {"sources": "[]", "metrics": "{}", "error_code": ""}
_QUESTION_CONSTANTS = {"flow": "", "route_reason": "", **_UNSET}
_ANSWER_CONSTANTS = {"text": "", "client_id": "", **_UNSET}


@dataclass(frozen=True)
class AnswerOutcome:
    answer_id: str
    conversation_id: uuid.UUID
    text: str
    status: str
    sources: list[dict[str, Any]]
    error_code: str
    token_count: int
    event_count: int
    ttft_ms: float | None
    metrics: dict[str, Any]
    context: list[dict[str, Any]]


@bulk_sql.in_statements
def answers_finish(outcomes: Sequence[AnswerOutcome]) -> None:
    """Save answers once, with their final status, all or none, and queue the background record
    of those grounded in context (one task for all of them).

    On PostgreSQL one statement (`bulk_sql`) updates the answers, their
    streaming sessions and conversations, as they end together under load; elsewhere the ORM
    updates them one by one.
    """
    from conversations.chat.tasks import answers_record

    if not outcomes:
        return
    now = timezone.now()
    conversation_ids = list(dict.fromkeys(outcome.conversation_id for outcome in outcomes))
    if connection.vendor == "postgresql":
        _answers_update_together(outcomes, conversation_ids, now)
    else:
        with transaction.atomic():
            _answers_update(outcomes, conversation_ids, now)
    records = [{"answer_id": o.answer_id, "context": o.context} for o in outcomes if o.context]
    if records:
        # At once when the statement above has committed; at the end of the caller's transaction
        # when there is one.
        transaction.on_commit(lambda: answers_record.delay(records))


def _answers_update_together(outcomes, conversation_ids, now) -> None:
    bulk_sql.run_together(
        bulk_sql.update(
            Message,
            "id",
            ("text", "status", "sources", "error_code", "metrics"),
            [
                (
                    o.answer_id,
                    o.text,
                    o.status,
                    orjson.dumps(o.sources).decode(),
                    o.error_code,
                    orjson.dumps(o.metrics).decode(),
                )
                for o in outcomes
            ],
        ),
        bulk_sql.update(
            StreamingSession,
            "message",
            ("status", "token_count", "event_count", "ttft_ms", "error_code", "ended_at"),
            [
                (o.answer_id, o.status, o.token_count, o.event_count, o.ttft_ms, o.error_code, now)
                for o in outcomes
            ],
        ),
        bulk_sql.update(Conversation, "id", ("updated_at",), [(c, now) for c in conversation_ids]),
    )


def _answers_update(outcomes, conversation_ids, now) -> None:
    for outcome in outcomes:
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
            ended_at=now,
        )
    Conversation.objects.filter(id__in=conversation_ids).update(updated_at=now)


def answer_stored(*, answer_id: str) -> Message | None:
    return Message.objects.filter(id=answer_id, role=Message.Role.ASSISTANT).first()
