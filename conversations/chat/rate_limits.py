"""Message rate limits: per websocket connection (in memory) and per client IP (shared by every
web process through Redis, when set); and open chat connections per IP (per web process).

The per-IP limit is a one-minute window. A message never waits for Redis: each process decides
from the shared count it last read plus its own since, and syncs in the background every
`SYNC_INTERVAL`; the limit can be exceeded by what other processes admitted within one interval.
"""

import asyncio
import functools
import logging
import time
from collections import deque

import redis
from django.conf import settings

from chatplatform.event_loops import PerLoop, async_redis

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
SYNC_INTERVAL = 0.1
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


class _IpCounts:
    """Per-IP counts of the current window in this process: the shared total as last read from
    Redis, and what this process admitted since (not yet added to Redis)."""

    def __init__(self) -> None:
        self.window = -1
        self.shared: dict[str, int] = {}
        self.unsynced: dict[str, int] = {}
        self.syncing: asyncio.Task | None = None
        self.failing = False

    def admit(self, ip: str, window: int, limit: int) -> bool:
        if window != self.window:
            self.window, self.shared, self.unsynced = window, {}, {}
        count = self.shared.get(ip, 0) + self.unsynced.get(ip, 0) + 1
        if count > limit:
            return False
        self.unsynced[ip] = self.unsynced.get(ip, 0) + 1
        return True

    def start_sync(self) -> None:
        if self.syncing is None or self.syncing.done():
            self.syncing = asyncio.get_running_loop().create_task(self._sync())

    async def _sync(self) -> None:
        while self.unsynced:
            await asyncio.sleep(SYNC_INTERVAL)
            window, counts = self.window, self.unsynced
            self.unsynced = {}
            try:
                async with async_redis(settings.REDIS_URL).pipeline(transaction=False) as pipe:
                    for ip, count in counts.items():
                        key = _KEY.format(ip=ip, window=window)
                        pipe.incrby(key, count)
                        pipe.expire(key, 2 * WINDOW_SECONDS)
                    replies = await pipe.execute()
            except Exception as exc:  # counting degrades to this process; messages go on
                if not self.failing:
                    logger.warning("Per-IP message counts not shared, Redis unavailable: %s", exc)
                self.failing = True
                if window == self.window:
                    for ip, count in counts.items():
                        self.shared[ip] = self.shared.get(ip, 0) + count
                continue
            self.failing = False
            if window == self.window:
                for ip, total in zip(counts, replies[::2], strict=True):
                    # Counts admitted while the round trip was under way are still in `unsynced`.
                    self.shared[ip] = int(total)


_local = _IpCounts()
_per_loop = PerLoop(_IpCounts)
# Open chat connections per IP in this process. Counted per process, not in Redis: a count kept
# in Redis would outlive a process that dies with connections open, and each process holding its
# own connections is what the cap protects.
_open_connections: dict[str, int] = {}


def local_ip_counts_clear() -> None:
    """Forget this process's per-IP counts; as after a restart."""
    global _local
    _local = _IpCounts()
    _per_loop.clear()
    _open_connections.clear()


def connection_admit(ip: str) -> bool:
    """Whether one more chat connection from `ip` is within `CHAT_MAX_CONNECTIONS_PER_IP` in
    this process; counts it if so, until `connection_release`."""
    count = _open_connections.get(ip, 0)
    if count >= settings.CHAT_MAX_CONNECTIONS_PER_IP:
        return False
    _open_connections[ip] = count + 1
    return True


def connection_release(ip: str) -> None:
    """An admitted connection from `ip` has closed."""
    count = _open_connections.get(ip, 0) - 1
    if count > 0:
        _open_connections[ip] = count
    else:
        _open_connections.pop(ip, None)


def ip_rate_allows(ip: str) -> bool:
    """Whether a message from `ip` is within `CHAT_MESSAGES_PER_MINUTE_PER_IP`; counts it if so.
    Called from the event loop; never waits."""
    window = int(time.time() // WINDOW_SECONDS)
    limit = settings.CHAT_MESSAGES_PER_MINUTE_PER_IP
    if not settings.REDIS_URL:
        return _local.admit(ip, window, limit)
    counts = _per_loop.get()
    admitted = counts.admit(ip, window, limit)
    if admitted:
        counts.start_sync()
    return admitted


def ip_rate_allows_blocking(ip: str) -> bool:
    """`ip_rate_allows` for sync callers (the REST view), which may wait: one round trip that adds
    the message to the shared count at once. When Redis fails, this process counts alone."""
    window = int(time.time() // WINDOW_SECONDS)
    limit = settings.CHAT_MESSAGES_PER_MINUTE_PER_IP
    if not settings.REDIS_URL:
        return _local.admit(ip, window, limit)
    key = _KEY.format(ip=ip, window=window)
    try:
        with _redis(settings.REDIS_URL).pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW_SECONDS)
            count = int(pipe.execute()[0])
        if count > limit:
            _redis(settings.REDIS_URL).decr(key)  # a refused message does not count
            return False
        return True
    except redis.RedisError as exc:
        logger.warning("Per-IP message count not shared, Redis unavailable: %s", exc)
        return _local.admit(ip, window, limit)


@functools.cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=settings.REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
    )
