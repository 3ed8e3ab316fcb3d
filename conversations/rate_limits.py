"""Message rate limits: per websocket connection (in memory) and per client IP (shared).

The per-IP count is one `INCR` and `EXPIRE` in a single round trip on the event loop's Redis
client when `REDIS_URL` is set, so that every web process shares it; without Redis there is one
web process and the count lives in its memory. Neither waits for a thread.
"""

import logging
import time
from collections import deque

from django.conf import settings
from redis.exceptions import RedisError

from chatplatform.redis_async import async_redis

logger = logging.getLogger(__name__)

_WINDOW_SECONDS = 60
_KEY = "chatplatform:chat-rate:{ip}:{window}"


class RateLimiter:
    """A sliding window over one connection's messages."""

    def __init__(self, *, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._times: deque[float] = deque()

    def allows(self) -> bool:
        now = time.monotonic()
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True


class _WindowCounts:
    """Counts per key for the current fixed window of this process (no Redis)."""

    def __init__(self) -> None:
        self.window = -1
        self.counts: dict[str, int] = {}

    def incr(self, key: str, window: int) -> int:
        if window != self.window:
            self.window, self.counts = window, {}
        self.counts[key] = count = self.counts.get(key, 0) + 1
        return count


_local_counts = _WindowCounts()


def local_ip_counts_clear() -> None:
    """Forget this process's per-IP counts (without Redis); as after a restart."""
    _local_counts.window, _local_counts.counts = -1, {}


async def ip_rate_allows(ip: str) -> bool:
    """A fixed one-minute window per IP. If Redis cannot be reached the message is allowed (the
    per-connection limit still holds) rather than refusing every visitor."""
    window = int(time.time() // _WINDOW_SECONDS)
    if not settings.REDIS_URL:
        return _local_counts.incr(ip, window) <= settings.CHAT_MESSAGES_PER_MINUTE_PER_IP
    key = _KEY.format(ip=ip, window=window)
    try:
        async with async_redis().pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * _WINDOW_SECONDS)
            count, _ = await pipe.execute()
    except RedisError as exc:
        logger.warning("Per-IP message limit skipped, Redis unavailable: %s", exc)
        return True
    return count <= settings.CHAT_MESSAGES_PER_MINUTE_PER_IP
