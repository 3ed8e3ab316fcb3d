"""Websocket consumers whose frames go straight to their handlers.

Channels' own `dispatch` first closes stale database connections on Django's one shared sync
thread: a hop per frame of every socket. A consumer that reaches the database only through
`database_sync_to_async`, which does that around each call itself, does not need it.
"""

from typing import Any

from channels.consumer import get_handler_name


class DirectDispatch:
    """Mix in before Channels' consumer class."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
