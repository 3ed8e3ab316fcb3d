"""A TTL cache in Django's cache whose namespaces are invalidated by a version token.

Each namespace has a token (a random hex string) under its own key; every entry stores the token
it was computed under and its expiry, and counts only while both hold. Invalidating a namespace
publishes a fresh token, so every entry of it, in every process sharing the cache (Redis), stops
counting at once; on the local-memory cache the same holds within the process. A reader reads
the token and the entry in one round trip (`get_many`), and an entry computed from rows read
before an invalidation carries the old token, so it is never served. The token is published
again when the writer's transaction commits: a reader in between read the rows as they were.

A missing token (first use, eviction) is replaced by a fresh one, which can only cause misses.
The cache is an optimisation: when it cannot be read every read is a miss, and writes are dropped.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import BaseCache, caches
from django.db import transaction

from chatplatform.event_loops import cache_aget_many

logger = logging.getLogger(__name__)

T = TypeVar("T")

_MISSING = object()


def version_token(cache: BaseCache, key: str) -> str:
    """The token under `key`, created when there is none; backend errors propagate."""
    token = cache.get(key)
    if token is None:
        # First reader after a restart or an eviction: any fresh token forces a reload.
        cache.add(key, uuid.uuid4().hex, timeout=None)
        token = cache.get(key)
    return token


def version_publish(cache: BaseCache, key: str, *, what: str) -> None:
    """Publish a fresh token under `key`: now, and again when the current transaction commits."""

    def publish() -> None:
        try:
            cache.set(key, uuid.uuid4().hex, timeout=None)
        except Exception as exc:  # readers reload when the token disappears from the cache
            logger.warning("%s: could not publish a change: %s", what, exc)

    publish()
    transaction.on_commit(publish)


class NamespacedCache:
    """Entries `(namespace, key)` of one named cache, each kept `ttl` seconds at most."""

    def __init__(
        self, name: str, *, ttl: float, alias: str = "default", clock: Callable[[], float] = time.time
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive.")
        self.name = name
        self.ttl = ttl
        self.alias = alias
        self.clock = clock

    @property
    def cache(self) -> BaseCache:
        return caches[self.alias]

    def version_key(self, namespace: str) -> str:
        return f"nc:{self.name}:{namespace}:version"

    def entry_key(self, namespace: str, key: str) -> str:
        return f"nc:{self.name}:{namespace}:entry:{key}"

    # --- reads ----------------------------------------------------------------------------------

    def unpack(self, entry: Any, token: Any, default: Any = None) -> Any:
        """The value of a stored entry if it is current under `token` and not expired."""
        if token is None or not isinstance(entry, tuple) or len(entry) != 3:
            return default
        entry_token, expires_at, value = entry
        if entry_token != token or self.clock() >= expires_at:
            return default
        return value

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        """The current value, or `default`."""
        vkey, ekey = self.version_key(namespace), self.entry_key(namespace, key)
        try:
            found = self.cache.get_many([vkey, ekey])
        except Exception as exc:  # any backend error is a miss
            logger.warning("Cache %s unavailable, reading afresh: %s", self.name, exc)
            return default
        return self.unpack(found.get(ekey), found.get(vkey), default)

    async def aget(self, namespace: str, key: str, default: Any = None) -> Any:
        """`get` for the event loop: one MGET on the loop's own Redis client."""
        vkey, ekey = self.version_key(namespace), self.entry_key(namespace, key)
        try:
            if self.alias == "default":
                found = await cache_aget_many([vkey, ekey])
            else:
                found = await self.cache.aget_many([vkey, ekey])
        except Exception as exc:
            logger.warning("Cache %s unavailable, reading afresh: %s", self.name, exc)
            return default
        return self.unpack(found.get(ekey), found.get(vkey), default)

    # --- writes ---------------------------------------------------------------------------------

    def token(self, namespace: str) -> str | None:
        """The namespace's current token (created when missing); None when the cache is down.

        Read it before reading what you will `set`, and pass it to `set`."""
        try:
            return version_token(self.cache, self.version_key(namespace))
        except Exception as exc:
            logger.warning("Cache %s unavailable: %s", self.name, exc)
            return None

    def set(
        self, namespace: str, key: str, value: Any, *, token: str | None, ttl: float | None = None
    ) -> None:
        """Store `value`, computed under `token` (from `token()`); nothing when token is None."""
        if token is None:
            return
        seconds = self.ttl if ttl is None else ttl
        try:
            self.cache.set(
                self.entry_key(namespace, key),
                (token, self.clock() + seconds, value),
                timeout=math.ceil(seconds),
            )
        except Exception as exc:
            logger.warning("Cache %s unavailable, not storing: %s", self.name, exc)

    def get_or_set(
        self, namespace: str, key: str, compute: Callable[[], T], *, ttl: float | None = None
    ) -> T:
        """The current value, else `compute()` stored under the token read before computing."""
        value = self.get(namespace, key, _MISSING)
        if value is not _MISSING:
            return value
        token = self.token(namespace)
        value = compute()
        self.set(namespace, key, value, token=token, ttl=ttl)
        return value

    def invalidate(self, namespace: str) -> None:
        """Make every entry of `namespace` stale, in every process; now and on commit."""
        version_publish(self.cache, self.version_key(namespace), what=f"Cache {self.name}")


def namespaced_cache(
    name: str, *, ttl: float, alias: str = "default", clock: Callable[[], float] = time.time
) -> NamespacedCache:
    """A `NamespacedCache` named `name` (the prefix of its keys)."""
    return NamespacedCache(name, ttl=ttl, alias=alias, clock=clock)
