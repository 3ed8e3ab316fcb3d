"""Answers whose provider request has not left yet, per event loop, and a wait for them.

When many questions arrive together, the last one's first token is late by everything the
process does before that question's request leaves. Work that can wait waits until every answer
of the burst has written its request (as the HTTP transport reports it,
chatplatform/ai/request_written.py), or at most `MAX_WAIT` seconds, so that it does not hold the
interpreter while requests are still being prepared:

- the questions' database writes (a first token needs its question saved only after the
  provider's first-token latency);
- automatic garbage collections (chatplatform/gc_setup.py): one would stop every request of the
  burst for its whole pause; held off, it runs while the provider prepares the first tokens.
"""

import asyncio
import contextlib
from collections.abc import Callable

from chatplatform.gc_setup import collection_pause
from chatplatform.loops import PerLoop

MAX_WAIT = 0.1


class _Gate:
    def __init__(self) -> None:
        self.preparing = 0
        self.open = asyncio.Event()
        self.open.set()
        self.release_collector: Callable[[], None] | None = None
        self.collector_timer: asyncio.TimerHandle | None = None

    def pause_collector(self) -> None:
        self.release_collector = collection_pause()
        self.collector_timer = asyncio.get_running_loop().call_later(MAX_WAIT, self.resume_collector)

    def resume_collector(self) -> None:
        if self.release_collector is not None:
            self.release_collector()
            self.release_collector = None
        if self.collector_timer is not None:
            self.collector_timer.cancel()
            self.collector_timer = None


_gate = PerLoop(_Gate).get


def request_preparing() -> Callable[[], None]:
    """An answer started; its provider request has not left yet. Returns the function to call
    once it has (or once it is known to make none); only its first call counts."""
    gate = _gate()
    gate.preparing += 1
    if gate.open.is_set():
        gate.open.clear()
        gate.pause_collector()
    left = False

    def request_sent() -> None:
        nonlocal left
        if left:
            return
        left = True
        gate.preparing -= 1
        if gate.preparing == 0:
            gate.open.set()
            gate.resume_collector()

    return request_sent


async def requests_sent() -> None:
    """Return once no answer of this loop is preparing its request, or after `MAX_WAIT`."""
    gate = _gate()
    if gate.open.is_set():
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(MAX_WAIT):
            await gate.open.wait()
