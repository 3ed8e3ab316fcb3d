"""Holds back work that can wait until the provider requests of a burst have left.

When many questions arrive together, the last one's first token waits for everything the process
does before its request leaves. So an answer's `start` event and its question's write wait until
every answer of this event loop has written its request (the HTTP transport says so,
chatplatform/ai/request_written.py), or `MAX_WAIT` seconds at most.
"""

import asyncio
import contextlib
from collections.abc import Callable

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
