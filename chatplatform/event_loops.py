"""State that belongs to one event loop, and the async Redis and cache clients built on it.

asyncio objects (locks, events, connections) belong to the loop that made them: daphne runs one
loop, tests and `async_to_sync` make others, so such state is kept per loop (`PerLoop`). The
Redis client and the cache reads let the answer path read without waiting for Django's one
shared sync thread, where under load a read would queue behind everything else. `CacheWatch`
keeps entries answers read often fresh in the background, one `MGET` per interval.
"""

import asyncio
import logging
import re
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import redis.asyncio
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisSerializer

T = TypeVar("T")


class PerLoop(Generic[T]):
    """One object per running event loop, made on first use and gone with its loop."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._values: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        """The running loop's object, made on first use."""
        loop = asyncio.get_running_loop()
        value = self._values.get(loop)
        if value is None:
            value = self._values[loop] = self._factory()
        return value

    def clear(self) -> None:
        """Forget every loop's object (the next `get` makes a new one)."""
        self._values.clear()


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


logger = logging.getLogger(__name__)
_serializer = RedisSerializer()


def _redis_location() -> str | None:
    """The Redis server of the default cache, when it is Django's Redis cache on one server."""
    if not isinstance(caches["default"], RedisCache):
        return None
    location = settings.CACHES["default"]["LOCATION"]
    return location if isinstance(location, str) and not re.search("[;,]", location) else None


async def cache_aget(key: str, default: Any = None) -> Any:
    """`caches["default"].get(key, default)` for async code; errors are the backend's own."""
    return (await cache_aget_many([key])).get(key, default)


async def cache_aget_many(keys: list[str]) -> dict[str, Any]:
    """`caches["default"].get_many(keys)` for async code: the keys found, with their values."""
    cache = caches["default"]
    location = _redis_location()
    if location is not None:
        raws = await async_redis(location).mget([cache.make_and_validate_key(key) for key in keys])
        return {key: _serializer.loads(raw) for key, raw in zip(keys, raws, strict=True) if raw is not None}
    if isinstance(cache, LocMemCache):
        return cache.get_many(keys)
    return await cache.aget_many(keys)


class CacheWatch:
    """Re-reads, every `interval()` seconds, the keys `touch`ed in the last `idle_seconds` on
    each event loop, and hands what it read to `on_values` ({key: value or None}). Only with a
    Redis cache (with another backend there is nothing to gain); read errors wait for the next
    interval."""

    def __init__(
        self,
        on_values: Callable[[dict[str, Any]], None],
        *,
        interval: Callable[[], float],
        idle_seconds: float = 300.0,
    ) -> None:
        self._on_values = on_values
        self._interval = interval
        self._idle_seconds = idle_seconds
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[dict[str, float], list]] = (
            weakref.WeakKeyDictionary()
        )

    def touch(self, key: str) -> None:
        """Keep `key` fresh on the running loop from now on, until it goes unused."""
        loop = asyncio.get_running_loop()
        watched = self._loops.get(loop)
        if watched is not None and key in watched[0] and not watched[1][0].done():
            watched[0][key] = time.monotonic()  # every answer comes here: the short way
            return
        if _redis_location() is None or self._interval() <= 0:
            return
        used, task = self._loops.setdefault(loop, ({}, [None]))
        used[key] = time.monotonic()
        if task[0] is None or task[0].done():
            task[0] = loop.create_task(self._watch(used))

    async def _watch(self, used: dict[str, float]) -> None:
        while used:
            await asyncio.sleep(self._interval() / 2)
            idle_since = time.monotonic() - self._idle_seconds
            for key in [key for key, at in used.items() if at < idle_since]:
                del used[key]
            keys = list(used)
            if not keys:
                return
            try:
                found = await cache_aget_many(keys)
            except Exception as exc:  # answers then read for themselves, and tell of the error
                logger.debug("Background re-read of %d cache keys failed: %s", len(keys), exc)
                continue
            self._on_values({key: found.get(key) for key in keys})

    def clear(self) -> None:
        """Stop watching everything, on every loop."""
        for used, task in list(self._loops.values()):
            used.clear()
            if task[0] is not None and not task[0].done():
                task[0].cancel()
        self._loops.clear()
