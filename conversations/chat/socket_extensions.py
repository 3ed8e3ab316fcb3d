"""Frames of the chat socket that other apps answer (analytics: `rating`), registered from their
AppConfig.ready() so that the chat does not import them.

A handler gets the connection's `ChatState` and the decoded frame, and returns the frame to send
back; an `ApplicationError` it raises becomes an `error` frame with its code. It runs on the
event loop: database work goes through `database_sync_to_async`.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from conversations.chat.selectors import ChatState

FrameHandler = Callable[[ChatState, dict[str, Any]], Awaitable[dict[str, Any]]]

_handlers: dict[str, FrameHandler] = {}

# The chat's own frame types, which no other app may take over.
RESERVED = frozenset({"message", "stop", "resume"})


def frame_handler_register(frame_type: str, handler: FrameHandler) -> None:
    """Answer frames of `frame_type` with `handler` (registering again replaces it)."""
    if frame_type in RESERVED:
        raise ValueError(f"The chat handles {frame_type!r} frames itself.")
    _handlers[frame_type] = handler


def frame_handler(frame_type: str) -> FrameHandler | None:
    return _handlers.get(frame_type)
