"""Holding back what can wait until the provider requests of a burst have been written.

When many questions arrive together, the last one's first token waits for everything the process
does before its request leaves. So an answer's `start` event and its question's write wait until
every answer of this event loop has written its request, or `MAX_WAIT` seconds at most. Only the
HTTP transport knows when a streamed request has left, several event-loop turns after the first
read: the async client's request hook (`attach_trace`) asks httpcore's `trace` extension to call
the answer's `notify_when_written` callback once the body is sent (it may come more than once, on
a retry, or never, on an early failure: `mark_sent` counts once).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2

from chatplatform.event_loops import PerLoop

MAX_WAIT = 0.1


class _Gate:
    def __init__(self) -> None:
        self.pending = 0
        self.open = asyncio.Event()
        self.open.set()


_gate = PerLoop(_Gate).get


def pending_request_add() -> Callable[[], None]:
    """Count an answer whose provider request has not left yet. Returns `mark_sent`, to call
    once it has (or once it is known to make none); only its first call counts."""
    gate = _gate()
    gate.pending += 1
    gate.open.clear()
    sent = False

    def mark_sent() -> None:
        nonlocal sent
        if sent:
            return
        sent = True
        gate.pending -= 1
        if gate.pending == 0:
            gate.open.set()

    return mark_sent


async def pending_requests_wait() -> None:
    """Return once no answer of this loop has a request still to send, or after `MAX_WAIT`."""
    gate = _gate()
    if gate.open.is_set():
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(MAX_WAIT):
            await gate.open.wait()


# --- the transport's word that a request has been written ------------------------------------

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
