"""Reads of Django's default cache from the event loop, without waiting for a thread.

Django's Redis cache has no native async methods: `cache.aget` runs `get` through
`sync_to_async`, on the one thread that Django and Channels share for sync calls, so under load a
read on the answer path waits behind everything queued there. `cache_aget` reads the same entry
with the loop's own Redis client (`make_and_validate_key` for the key, Django's `RedisSerializer`
for the value); the local-memory cache lives in this process and is read directly; any other
backend goes through its own `aget`. Writes stay with Django's cache (they happen off the answer
path), and nothing here caches anything of its own.
"""

import re
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisSerializer

from chatplatform.redis_async import async_redis

_serializer = RedisSerializer()


async def cache_aget(key: str, default: Any = None) -> Any:
    """`caches["default"].get(key, default)` for async code; errors are the backend's own."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        location = settings.CACHES["default"]["LOCATION"]
        if isinstance(location, str) and not re.search("[;,]", location):  # one server
            raw = await async_redis(location).get(cache.make_and_validate_key(key))
            return default if raw is None else _serializer.loads(raw)
    if isinstance(cache, LocMemCache):
        return cache.get(key, default)
    return await cache.aget(key, default)
