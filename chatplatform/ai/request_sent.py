"""Being told when the provider request of the current task has been written to its connection.

The SDK's HTTP client runs a request hook before each request; the hook gives the request
httpcore's `trace` extension, which reports every step of the exchange. The callback runs once:
when the request body has been written, when a new connection starts to be opened (the request
waits for the network from then on), or when a step fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import httpx2

_callback: ContextVar[Callable[[], None] | None] = ContextVar("request_sent_callback", default=None)

_SENT = ("send_request_body.complete", "connect_tcp.started", "connect_unix_socket.started", ".failed")


@contextlib.contextmanager
def on_request_sent(callback: Callable[[], None]) -> Iterator[None]:
    """Call `callback` once the next provider request made within this block has left."""
    token = _callback.set(callback)
    try:
        yield
    finally:
        _callback.reset(token)


async def request_hook(request: httpx2.Request) -> None:
    """The HTTP client's request hook (`event_hooks={"request": [request_hook]}`)."""
    callback = _callback.get()
    if callback is not None:
        _callback.set(None)  # the first request only; a retry is not waited for
        request.extensions["trace"] = _Tracer(callback)


class _Tracer:
    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback: Callable[[], None] | None = callback

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        if self._callback is not None and event.endswith(_SENT):
            callback, self._callback = self._callback, None
            callback()
