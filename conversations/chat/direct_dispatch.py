"""Websocket consumers whose frames go straight to their handlers.

Channels' own `dispatch` first closes stale database connections on Django's single sync thread,
a hop for every frame of every socket through a thread they all share with sync views and
connection set-up (at 100 clients frames reached their consumers over up to 280 ms;
bench/HISTORY.md). A consumer that reaches the database only through `database_sync_to_async`,
which closes stale connections around each call itself, does not need it.
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
