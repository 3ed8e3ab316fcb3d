"""Change counters in the database, and the per-process copy that watches one.

Without Redis the default cache is each process's own, so a cache token could never tell the
other processes about a change; one indexed read of a counter row, at most once per interval per
process, can. The hot path is a monotonic-clock compare and the copy's own dict.

On the event loop (`acurrent`) the copy is read again in a worker thread once half the interval
has passed, while answers go on with the copy they have: a burst of chats never queues behind
the database, and no copy older than the interval is used.
"""

import asyncio
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F

from chatplatform.runtime_config.models import Revision

logger = logging.getLogger(__name__)

T = TypeVar("T")


def revision_bump(scope: str) -> None:
    """Raise `scope`'s counter; call inside the transaction that makes the change."""
    changes = Revision.objects.filter(scope=scope)
    if not changes.update(number=F("number") + 1, token=uuid.uuid4().hex):
        Revision.objects.get_or_create(scope=scope)
        changes.update(number=F("number") + 1, token=uuid.uuid4().hex)


def revision_read(scope: str) -> str:
    return Revision.objects.filter(scope=scope).values_list("token", flat=True).first() or ""


class ProcessCopy(Generic[T]):
    """What `load()` returns, kept in this process and loaded again when `scope`'s counter has
    moved; the counter is read at most once per `RUNTIME_CONFIG_RECHECK_SECONDS`."""

    def __init__(self, scope: str, load: Callable[[], T], empty: Callable[[], T]) -> None:
        self.scope = scope
        self._load = load
        self._empty = empty
        self._lock = threading.Lock()
        self._data: T | None = None
        self._revision: str | None = None
        self._checked_at = -math.inf
        self._interval = 1.0
        self._refreshing: asyncio.Future | None = None
        # Replaceable by tests, which move time on instead of sleeping.
        self.clock: Callable[[], float] = time.monotonic

    def current(self) -> T:
        if self.clock() - self._checked_at < self._interval:
            return self._data  # type: ignore[return-value]
        return self.refresh()

    @property
    def fresh(self) -> bool:
        """Whether `current()` can answer without the database (async callers check first)."""
        return self.clock() - self._checked_at < self._interval

    async def acurrent(self) -> T:
        """`current()` for the event loop: the copy as it is while younger than half the
        interval; then one refresh starts in a worker thread (shared by every caller) and the
        copy is still used until the interval is up; only an older copy, or none, waits for it."""
        age = self.clock() - self._checked_at
        if age < self._interval / 2:
            return self._data  # type: ignore[return-value]
        refreshing = self._refreshing
        if refreshing is None or refreshing.done():
            refreshing = self._refreshing = asyncio.ensure_future(
                database_sync_to_async(self.refresh, thread_sensitive=False)(min_age=self._interval / 2)
            )
        if age < self._interval and self._data is not None:
            return self._data
        return await asyncio.shield(refreshing)

    def refresh(self, *, min_age: float | None = None) -> T:
        """Read the counter (and the rows when it moved) unless the copy is younger than
        `min_age` (default: the interval), as when another thread has just read it."""
        with self._lock:
            if self.clock() - self._checked_at < (self._interval if min_age is None else min_age):
                return self._data  # type: ignore[return-value]
            self._interval = settings.RUNTIME_CONFIG_RECHECK_SECONDS
            try:
                revision = revision_read(self.scope)
                if revision != self._revision or self._data is None:
                    self._data = self._load()
                    self._revision = revision
            except DatabaseError as exc:
                # Keep serving what we had (or the defaults) and try again after the interval.
                logger.warning("%s: could not read the database, keeping the last copy: %s", self.scope, exc)
                if self._data is None:
                    self._data = self._empty()
            self._checked_at = self.clock()
            return self._data

    def changed_here(self) -> None:
        """This process changed the rows: read them again at once, and again after commit (the
        first read may be inside the transaction, which could still roll back)."""
        self._checked_at = -math.inf
        transaction.on_commit(self._expire)

    def _expire(self) -> None:
        self._checked_at = -math.inf

    def clear(self) -> None:
        """Forget the copy (tests: a rolled-back database must not leave its values here)."""
        with self._lock:
            self._data = None
            self._revision = None
            self._checked_at = -math.inf
            self._refreshing = None
