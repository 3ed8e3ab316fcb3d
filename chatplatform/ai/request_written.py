"""Telling an answer when its provider request has been written to the socket.

Only the HTTP transport knows when a streamed request has left, several event-loop turns after
the first read. An answer sets `notify_when_written(callback)` before that read; the client's
request hook (`attach_trace`) asks the transport's `trace` extension to call it once the body is
sent. It may come more than once (a retry) or never (an early failure): callers make it idempotent.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2

_on_written: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "on_request_written", default=None
)


def notify_when_written(callback: Callable[[], None]) -> None:
    """Call `callback` when a request that this task sends from now on has been written."""
    _on_written.set(callback)


async def attach_trace(request: httpx2.Request) -> None:
    """The async client's request hook."""
    callback = _on_written.get()
    if callback is not None:
        request.extensions["trace"] = _trace(callback)


def _trace(callback: Callable[[], None]) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    async def trace(event: str, info: dict[str, Any]) -> None:
        # "http11.send_request_body.complete" (or http2's).
        if event.endswith("send_request_body.complete"):
            callback()

    return trace
