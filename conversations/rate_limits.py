"""Message rate limits: per websocket connection (in memory) and per client IP (shared cache)."""

import time
from collections import deque

from django.conf import settings
from django.core.cache import cache


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


async def ip_rate_allows(ip: str) -> bool:
    """A fixed one-minute window per IP, counted in the cache so every web process shares it."""
    key = f"chat-rate:{ip}:{int(time.time() // 60)}"
    if await cache.aadd(key, 1, timeout=120):
        return True
    try:
        count = await cache.aincr(key)
    except ValueError:  # expired between add and incr
        await cache.aset(key, 1, timeout=120)
        return True
    return count <= settings.CHAT_MESSAGES_PER_MINUTE_PER_IP
