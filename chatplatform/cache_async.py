"""Reads of Django's default cache from the event loop, without waiting for a thread.

Django's Redis cache has no native async methods: `cache.aget` runs `get` through
`sync_to_async`, on the one thread that Django and Channels share for sync calls, so under load a
read on the answer path waits behind everything queued there. `cache_aget` and `cache_aget_many`
read the same entries with the loop's own Redis client (`make_and_validate_key` for the keys,
Django's `RedisSerializer` for the values); the local-memory cache lives in this process and is
read directly; any other backend goes through its own async methods. Writes stay with Django's
cache (they happen off the answer path).

`CacheWatch` keeps entries that answers read often fresh in the background: it re-reads the
keys used recently on each event loop, one `MGET` per interval, so that an answer never waits
for the check (the local vector store's versions and the prompt templates use it).
"""

import asyncio
import logging
import re
import time
import weakref
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisSerializer

from chatplatform.redis_async import async_redis

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
