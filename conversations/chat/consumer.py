"""The chat websocket, `/ws/chat/<chatbot_id>/`: DESIGN.md's protocol, nothing more.

The consumer checks the origin and limits, parses frames and hands the work to the pipeline; the
answer itself runs in its own task and reaches this socket through the answer's buffer.
"""

import asyncio
import functools
import logging
import uuid
from typing import Any, Literal, TypedDict
from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from chatplatform.errors import ApplicationError
from chatplatform.monitoring.metrics import OPEN_WEBSOCKETS
from conversations.chat import selectors
from conversations.chat.answer_buffer import AnswerBuffer, buffer_get, encode, replay_from_redis
from conversations.chat.intake import RATE_LIMITED, question_image, question_rate_allows, question_read
from conversations.chat.models import Message
from conversations.chat.pipeline import answer_start, answer_stop
from conversations.chat.rate_limits import RateLimiter, connection_admit, connection_release
from conversations.chat.selectors import ChatState
from conversations.chat.socket_extensions import FrameHandler, frame_handler

logger = logging.getLogger(__name__)

FATAL_CODES = frozenset({"chatbot_not_found", "origin_not_allowed", "rate_limited"})
# Close codes after a fatal error: 4000 + the HTTP status of the same refusal. (daphne lets an
# application close only with 1000 or 3000-4999.) A frame over the chat's limit is not fatal: the
# socket stays usable; daphne closes with 1009 a frame over its --websocket-max-message-size.
CLOSE_CODES = {"chatbot_not_found": 4404, "origin_not_allowed": 4403}


class ConversationEvent(TypedDict):
    type: Literal["conversation"]
    id: str
    token: str


class ErrorEvent(TypedDict):
    type: Literal["error"]
    code: str
    message: str


class ChatConsumer(AsyncWebsocketConsumer):
    # Answers reach the socket through their buffer, never through the channel layer, so the
    # consumer does not join it: no Redis channel (and its blocking read) per connection.
    channel_layer_alias = None
    state: ChatState | None = None
    current: AnswerBuffer | None = None
    follower: asyncio.Task | None = None
    # Counted among its address's open connections (`connection_admit`).
    admitted = False
    # Counted in the open websockets of /metrics.
    counted = False

    async def connect(self) -> None:
        await self.accept()
        OPEN_WEBSOCKETS.inc()
        self.counted = True
        self.client_ip = (self.scope.get("client") or ["unknown"])[0]
        if not connection_admit(self.client_ip):
            await self.fail("rate_limited", "Too many open chats from your address; close one and try again.")
            return
        self.admitted = True
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in self.scope["headers"]}
        self.limiter = RateLimiter(limit=settings.CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION, window_seconds=60)
        token = parse_qs(self.scope.get("query_string", b"").decode()).get("conversation", [""])[0]
        try:
            # One trip to the database thread, which every connection shares.
            opening = await database_sync_to_async(selectors.chat_open)(
                chatbot_id=self.scope["url_route"]["kwargs"]["chatbot_id"],
                token=token,
                origin=headers.get("origin"),
                host=headers.get("host"),
            )
        except ApplicationError as exc:
            await self.fail(exc.code, exc.message)
            return
        if opening.token_error is not None:
            error = opening.token_error
            await self.send_error(error.code, error.message + " A new conversation was started.")
        self.state = opening.state
        self.state.client_ip = self.client_ip
        event: ConversationEvent = {
            "type": "conversation",
            "id": str(self.state.conversation_id),
            "token": opening.token,
        }
        await self.send(text_data=encode(event))

    async def disconnect(self, code: int) -> None:
        if self.counted:
            self.counted = False
            OPEN_WEBSOCKETS.dec()
        if self.admitted:
            self.admitted = False
            connection_release(self.client_ip)
        # The answer goes on without us; a reconnecting client resumes it.
        if self.current is not None:
            self.current.unsubscribe(self.send_frame)
        if self.follower is not None:
            self.follower.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.state is None:
            return
        if text_data is None:
            await self.send_error("malformed_json", "Send JSON text frames.")
            return
        if len(text_data.encode()) > settings.CHAT_MAX_FRAME_BYTES:
            await self.send_error(
                "frame_too_large", f"A frame may hold at most {settings.CHAT_MAX_FRAME_BYTES} bytes."
            )
            return
        try:
            event = orjson.loads(text_data)
        except orjson.JSONDecodeError:
            await self.send_error("malformed_json", "The frame is not valid JSON.")
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            await self.send_error("malformed_event", 'Each frame must be an object with a "type".')
            return
        # PostgreSQL cannot store NUL in text: refuse it before anything runs, not at the write.
        if "\\u0000" in text_data and _holds_nul(event):
            await self.send_error("invalid_characters", "Text may not contain NUL characters (\\u0000).")
            return
        handler = {"message": self.on_message, "stop": self.on_stop, "resume": self.on_resume}.get(
            event["type"]
        )
        if handler is None:
            extension = frame_handler(event["type"])
            if extension is None:
                await self.send_error("unknown_event_type", f"Unknown event type '{event['type'][:40]}'.")
                return
            handler = functools.partial(self.on_extension, extension)
        await handler(event)

    async def on_message(self, event: dict[str, Any]) -> None:
        try:
            question = question_read(
                text=event.get("text"), client_id=event.get("client_id"), image_id=event.get("image_id")
            )
            image = None
            if question.image_id is not None:
                image = await database_sync_to_async(question_image)(state=self.state, question=question)
        except ApplicationError as exc:
            await self.send_error(exc.code, exc.message)
            return
        existing = self.state.answers_by_client_id.get(question.client_id) if question.client_id else None
        if existing:
            await self.replay(existing, after_seq=0)
            return
        if self.current is not None and not self.current.done:
            await self.send_error(
                "answer_in_progress", "Wait for the current answer to finish, or stop it first."
            )
            return
        if not question_rate_allows(state=self.state, limiter=self.limiter):
            await self.fail(*RATE_LIMITED)
            return
        self.current = answer_start(
            state=self.state, question=question.text, client_id=question.client_id, image=image
        )
        await self.current.subscribe(self.send_frame)

    async def on_stop(self, event: dict[str, Any]) -> None:
        if self.current is not None and not self.current.done:
            await answer_stop(self.current)

    async def on_resume(self, event: dict[str, Any]) -> None:
        message_id, after_seq = event.get("message_id"), event.get("after_seq", 0)
        message_id = _uuid_text(message_id)
        if message_id is None or not isinstance(after_seq, int) or after_seq < 0:
            await self.send_error(
                "malformed_event", "resume needs a message_id (a UUID) and a non-negative after_seq."
            )
            return
        await self.replay(message_id, after_seq=after_seq)

    async def on_extension(self, extension: FrameHandler, event: dict[str, Any]) -> None:
        """A frame another app answers (`socket_extensions`), e.g. a rating."""
        try:
            reply = await extension(self.state, event)
        except ApplicationError as exc:
            await self.send_error(exc.code, exc.message)
            return
        await self.send(text_data=encode(reply))

    async def replay(self, message_id: str, *, after_seq: int) -> None:
        """Resend an answer after `after_seq`, then follow it live if it is still streaming.

        Only answers of this connection's conversation can be resumed.
        """
        buffer = buffer_get(message_id)
        if buffer is not None and buffer.conversation_id == self.state.conversation_id:
            if self.current is not None:
                self.current.unsubscribe(self.send_frame)
            self.current = buffer
            await buffer.subscribe(self.send_frame, after_seq=after_seq)
            return
        stored = await database_sync_to_async(selectors.answer_stored)(answer_id=message_id)
        if stored is None or stored.conversation_id != self.state.conversation_id:
            await self.send_error(
                "resume_not_available", "That answer cannot be resumed here; it is unknown or expired."
            )
            return
        frames = await replay_from_redis(
            message_id, after_seq=after_seq, streaming=stored.status == Message.Status.STREAMING
        )
        if frames is not None:
            # Generated by another process: follow its Redis copy without blocking this socket.
            self.follower = asyncio.get_running_loop().create_task(self.forward(frames))
            return
        await self.send_stored(stored)

    async def forward(self, frames) -> None:
        async for frame in frames:
            await self.send_frame(frame)

    async def send_stored(self, message) -> None:
        await self.send(
            text_data=encode({"type": "start", "message_id": str(message.id), "flow": message.flow})
        )
        await self.send(
            text_data=encode(
                {
                    "type": "end",
                    "message_id": str(message.id),
                    "text": message.text,
                    "sources": message.sources,
                    "metrics": {k: message.metrics.get(k) for k in ("ttft_ms", "tokens", "tokens_per_s")},
                    "status": message.status,
                }
            )
        )

    async def send_frame(self, frame: str) -> None:
        # Every token goes through here: skip `send()`'s argument handling.
        await self.base_send({"type": "websocket.send", "text": frame})

    async def send_error(self, code: str, message: str) -> None:
        event: ErrorEvent = {"type": "error", "code": code, "message": message}
        await self.send(text_data=encode(event))

    async def fail(self, code: str, message: str) -> None:
        """A fatal error: say why, then close."""
        await self.send_error(code, message)
        await self.close(code=CLOSE_CODES.get(code, 4429))


def _uuid_text(value: object) -> str | None:
    """The canonical text of a UUID given as a string, or None."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _holds_nul(value: object) -> bool:
    """Whether a decoded JSON value has a NUL character in any string, keys included.

    Without recursion: orjson accepts nesting deeper than Python's recursion limit."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
