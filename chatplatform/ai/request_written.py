"""Telling an answer when its provider request has been written to the socket.

The first read of a streamed chat completion builds the request, takes a connection and writes
the request, with several turns of the event loop in between, so the moment the request has left
is known only to the HTTP transport. An answer sets `notify_when_written(callback)` before that
read; the async client's request hook (`attach_trace`) then asks the transport, through its
`trace` extension, to call `callback` once the request body has been sent. The callback may come
more than once (a retried request), or never (the request failed before it was written), so the
caller makes it idempotent and calls it itself when the answer's first token or failure arrives.
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
