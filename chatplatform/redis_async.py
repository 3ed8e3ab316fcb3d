"""Redis from the event loop, without waiting for a thread: one asyncio client per event loop
and server (the answer buffer's mirror, the per-IP message limit, cache reads on hot paths).

asyncio connections cannot move between loops: daphne has one loop, tests and `async_to_sync`
make others, so each loop gets its own connection pool.
"""

import redis.asyncio
from django.conf import settings

from chatplatform.loops import PerLoop

_clients: PerLoop[dict[str, redis.asyncio.Redis]] = PerLoop(dict)


def async_redis(url: str | None = None) -> redis.asyncio.Redis:
    """The running loop's client for `url`, by default `settings.REDIS_URL` (which must be set)."""
    url = url or settings.REDIS_URL
    clients = _clients.get()
    client = clients.get(url)
    if client is None:
        client = clients[url] = redis.asyncio.from_url(
            url,
            socket_timeout=settings.REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
        )
    return client
