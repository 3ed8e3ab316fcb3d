"""Version tokens in the shared cache, by which web processes tell each other that something they
keep in memory has changed (a local vector index, the chatbots' settings).

A writer publishes a fresh token at once and again when its transaction commits: a process that
read the token in between read the rows as they were before the commit, so it must see a newer
token afterwards. A reader reads the token before the rows and reads them again when the token
differs. With a cache only this process sees (local memory, dummy), a token would never reach the
other processes, so the version comes from the rows themselves: their count (a delete lowers it)
and their latest `updated_at` (a save moves it forward). The tokens themselves are those of
`chatplatform.calls.cache`, which namespaced caches use too.
"""

import logging
from collections.abc import Callable, Sequence

from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db.models import Count, Max, QuerySet

from chatplatform.calls.cache import version_publish, version_token

logger = logging.getLogger(__name__)


def shared_version(key: str, *, rows: Callable[[], Sequence[QuerySet]], what: str) -> str | None:
    """The version every process sees of what `key` names (`rows()` are its tables, read when
    the cache is this process's own); None when the cache cannot be read, so that the caller
    reads the rows again."""
    if isinstance(caches["default"], LocMemCache | DummyCache):
        return "|".join(_rows_version(queryset) for queryset in rows())
    try:
        return version_token(cache, key)
    except Exception as exc:  # any cache backend error; correctness only needs a reload
        logger.warning("%s: cache unavailable, reading from the database: %s", what, exc)
        return None


def publish_change(key: str, *, what: str) -> None:
    """Tell every process that what `key` names has changed: now, and again on commit."""
    version_publish(cache, key, what=what)


def _rows_version(queryset: QuerySet) -> str:
    state = queryset.aggregate(rows=Count("pk"), latest=Max("updated_at"))
    return f"{state['rows']}:{state['latest'].isoformat() if state['latest'] else ''}"
