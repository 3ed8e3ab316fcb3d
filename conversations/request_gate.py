"""The provider requests of answers that arrive together: sent one after another, in arrival order,
and a wait for all of them to have left.

When many questions arrive at once, each answer's request goes through the SDK and HTTP client in
several steps with a turn of the event loop between them. Left to themselves, the answers take
those steps in rotation, so every request leaves near the end of the burst. In line, each answer
sends its request once the one before it has written its own (`RequestTurn`): the first request
leaves after one answer's work, the median after half the burst's, as when each is handled
alone. An answer whose request cannot be written at once (a new connection, a full pool) lets
the next one go after at most `MAX_TURN_WAIT`.

Work that can wait, the questions' database writes (a first token needs its question saved only
after the provider's first-token latency), waits until every answer of the burst has sent its
request, or at most `MAX_WAIT` seconds, so that it does not hold the interpreter while requests
are still being prepared.
"""

from __future__ import annotations

import asyncio
import contextlib

from chatplatform.loops import PerLoop

MAX_WAIT = 0.1
MAX_TURN_WAIT = 0.05


class _Gate:
    def __init__(self) -> None:
        self.preparing = 0
        self.open = asyncio.Event()
        self.open.set()
        # Released once the latest answer in line has sent its request.
        self.last: asyncio.Future | None = None


_gate = PerLoop(_Gate).get


class RequestTurn:
    """One answer's place in the line of provider requests of its event loop."""

    def __init__(self, gate: _Gate) -> None:
        self._gate = gate
        self._previous = gate.last
        self._sent = asyncio.get_running_loop().create_future()
        gate.last = self._sent

    async def wait(self) -> None:
        """Return once the answers before this one have sent their requests, or after
        `MAX_TURN_WAIT`."""
        previous = self._previous
        self._previous = None
        if previous is None or previous.done():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(MAX_TURN_WAIT):
                await asyncio.shield(previous)

    def release(self) -> None:
        """This answer's request has left (or it will make none); the next answer may send its
        own. Idempotent; call it when the answer ends at the latest."""
        if self._sent.done():
            return
        self._sent.set_result(None)
        gate = self._gate
        gate.preparing = max(gate.preparing - 1, 0)
        if gate.preparing == 0:
            gate.open.set()


def request_preparing() -> RequestTurn:
    """An answer started; its provider request has not left yet. Returns its place in line."""
    gate = _gate()
    gate.preparing += 1
    gate.open.clear()
    return RequestTurn(gate)


async def requests_sent() -> None:
    """Return once no answer of this loop is preparing its request, or after `MAX_WAIT`."""
    gate = _gate()
    if gate.open.is_set():
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(MAX_WAIT):
            await gate.open.wait()
