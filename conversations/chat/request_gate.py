"""Answers whose provider request has not left yet, per event loop, and a wait for them.

When many questions arrive together, the last one's first token is late by everything the
process does before that question's request leaves. Work that can wait until the provider is
preparing its first tokens waits until every answer of the burst has written its request (as the
HTTP transport reports it, chatplatform/ai/request_written.py), or at most `MAX_WAIT` seconds, so
that it does not hold the interpreter while requests are still being prepared: the answers'
`start` events and the questions' database writes (a first token needs its question saved only
after the provider's first-token latency).
"""

import asyncio
import contextlib
from collections.abc import Callable

from chatplatform.loops import PerLoop

MAX_WAIT = 0.1


class _Gate:
    def __init__(self) -> None:
        self.preparing = 0
        self.open = asyncio.Event()
        self.open.set()


_gate = PerLoop(_Gate).get


def request_preparing() -> Callable[[], None]:
    """An answer started; its provider request has not left yet. Returns the function to call
    once it has (or once it is known to make none); only its first call counts."""
    gate = _gate()
    gate.preparing += 1
    gate.open.clear()
    left = False

    def request_sent() -> None:
        nonlocal left
        if left:
            return
        left = True
        gate.preparing -= 1
        if gate.preparing == 0:
            gate.open.set()

    return request_sent


async def requests_sent() -> None:
    """Return once no answer of this loop is preparing its request, or after `MAX_WAIT`."""
    gate = _gate()
    if gate.open.is_set():
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(MAX_WAIT):
            await gate.open.wait()
