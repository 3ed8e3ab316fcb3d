"""Answers whose provider request has not left yet, per event loop, and a wait for them.

When many questions arrive together, the last one's first token is late by everything the
process does before that question's request leaves. Work that can wait, the questions' database
writes (a first token needs its question saved only after the provider's first-token latency),
waits until every answer of the burst has sent its request, or at most `MAX_WAIT` seconds, so
that it does not hold the interpreter while requests are still being prepared.
"""

import asyncio
import contextlib

from chatplatform.loops import PerLoop

MAX_WAIT = 0.1


class _Gate:
    def __init__(self) -> None:
        self.preparing = 0
        self.open = asyncio.Event()
        self.open.set()


_gate = PerLoop(_Gate).get


def request_preparing() -> None:
    """An answer started; its provider request has not left yet."""
    gate = _gate()
    gate.preparing += 1
    gate.open.clear()


def request_sent() -> None:
    """That answer's request left (or it will make none): call exactly once per
    `request_preparing`."""
    gate = _gate()
    gate.preparing = max(gate.preparing - 1, 0)
    if gate.preparing == 0:
        gate.open.set()


async def requests_sent() -> None:
    """Return once no answer of this loop is preparing its request, or after `MAX_WAIT`."""
    gate = _gate()
    if gate.open.is_set():
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(MAX_WAIT):
            await gate.open.wait()
