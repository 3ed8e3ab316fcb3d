"""The bare relay: a websocket consumer that only forwards the provider's stream.

No routing, retrieval, persistence, buffering or Redis: on each `message` frame it streams the
question through the same `openai` provider as the platform (same SDK client, same SSE parsing)
and sends DESIGN.md's `start`, `token` and `end` events. What the platform costs beyond this is
its own work; this is the floor of the stack (daphne, Channels, the provider client).
"""

import uuid
from typing import Any

import orjson
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from chatplatform.ai import get_chat_provider
from chatplatform.ai.base import ChatRequest, ProviderError


class RelayConsumer(AsyncWebsocketConsumer):
    # No channel layer, and frames straight to their handler: the relay reaches no database, so
    # Channels' closing of stale connections before each frame is not part of the floor.
    channel_layer_alias = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        event = orjson.loads(text_data or "{}")
        if not isinstance(event, dict) or event.get("type") != "message":
            return
        question = str(event.get("text", ""))
        message_id = str(uuid.uuid4())
        await self.send(text_data=orjson.dumps({"type": "start", "message_id": message_id}).decode())
        request = ChatRequest(
            messages=[{"role": "user", "content": question}], question=question, context=[], language="da"
        )
        parts: list[str] = []
        try:
            async for delta in get_chat_provider().stream_chat(request):
                parts.append(delta)
                token = {"type": "token", "message_id": message_id, "seq": len(parts), "text": delta}
                await self.send(text_data=orjson.dumps(token).decode())
        except ProviderError as exc:
            # Only so that a failing provider shows up in the benchmark instead of a hang.
            error = {"type": "error", "code": exc.code, "message": exc.message, "message_id": message_id}
            await self.send(text_data=orjson.dumps(error).decode())
            return
        end = {"type": "end", "message_id": message_id, "text": "".join(parts)}
        await self.send(text_data=orjson.dumps(end).decode())
