"""The local vector store: vectors in the database, exact cosine search with NumPy.

Used by every chatbot without a Pinecone key. One `LocalVectorStore` is one namespace (the
chatbot's id) of one index name, so a chatbot never sees another chatbot's vectors even when two
chatbots configure the same index name.

Queries read a matrix of the whole (index, namespace), decoded once and kept in this process
(LRU-bounded). Every write bumps a version token in Django's cache (Redis in production), and
every query compares its cached matrix's token with it, so a web process sees what a Celery
worker has just ingested at the cost of one cache read per query. The token is bumped when the
write happens (for readers in the same transaction) and again after commit (for other
processes, which must not cache rows that are not committed yet). A lost or evicted token makes
readers reload, never serve stale vectors.

Without Redis the cache is local-memory, private to each process, so a token there would never
reach the web process. Then the version is read from the table instead: the row count and the
latest `updated_at` of the namespace, one small indexed query per search.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections, transaction
from redis.exceptions import RedisError

from chatplatform import telemetry
from chatplatform.event_loops import CacheWatch, cache_aget
from chatplatform.models import LocalVector
from chatplatform.shared_versions import publish_change, shared_version
from chatplatform.vectorstores.base import (
    VECTOR_STORE_DIMENSION_MISMATCH,
    VECTOR_STORE_ERROR,
    VectorMatch,
    VectorRecord,
    VectorStoreError,
)

logger = logging.getLogger(__name__)

_DTYPE = np.dtype("<f4")  # float32, little-endian, whatever the machine's byte order
WRITE_BATCH_SIZE = 500
_MAX_CACHED_INDEXES = 64
# Matrices up to this many values (about 1 ms of matrix product here) are searched on the loop.
_INLINE_SEARCH_VALUES = 1_000_000
_VERSION_KEY = "localvec:v1:{index}:{namespace}"


@dataclass(frozen=True, slots=True)
class _Matrix:
    """One (index, namespace) as loaded: row-normalised vectors, ids and metadata by row."""

    version: str
    ids: tuple[str, ...]
    vectors: np.ndarray  # shape (rows, dimension), float32, each row of length 1 (or 0)
    metadata: tuple[dict[str, Any], ...]

    @property
    def dimension(self) -> int | None:
        return int(self.vectors.shape[1]) if self.ids else None


class _MatrixCache:
    """Matrices of this process, by (index, namespace), least recently used evicted first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], _Matrix] = OrderedDict()
        # When each matrix's version was last confirmed against the shared one (monotonic).
        self._confirmed: dict[tuple[str, str], float] = {}
        self._loading: dict[tuple[str, str], threading.Lock] = {}

    def get(self, key: tuple[str, str], version: str | None) -> _Matrix | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or version is None or entry.version != version:
                return None
            self._entries.move_to_end(key)
            self._confirmed[key] = time.monotonic()
            return entry

    def recently_confirmed(self, key: tuple[str, str], seconds: float) -> _Matrix | None:
        """The matrix if its version was confirmed less than `seconds` ago."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - self._confirmed.get(key, -1e18) >= seconds:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, str], matrix: _Matrix) -> None:
        with self._lock:
            self._entries[key] = matrix
            self._entries.move_to_end(key)
            self._confirmed[key] = time.monotonic()
            while len(self._entries) > _MAX_CACHED_INDEXES:
                evicted, _ = self._entries.popitem(last=False)
                self._confirmed.pop(evicted, None)

    def loading_lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._lock:
            return self._loading.setdefault(key, threading.Lock())

    def forget(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._confirmed.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._confirmed.clear()


_matrices = _MatrixCache()
# Version key -> matrix key of the indexes whose versions are kept confirmed in the background.
_watched: dict[str, tuple[str, str]] = {}


def _versions_read(versions: dict[str, Any]) -> None:
    for version_key, version in versions.items():
        key = _watched.get(version_key)
        # `get` confirms a held matrix of that version; any other version (or none) drops it.
        if key is not None and _matrices.get(key, version) is None:
            _matrices.forget(key)


_version_watch = CacheWatch(_versions_read, interval=lambda: settings.LOCAL_VECTOR_RECHECK_SECONDS)


def local_vector_cache_clear() -> None:
    """Forget this process's matrices (not the shared versions); as if another process asked."""
    _matrices.clear()
    _version_watch.clear()


def encode_values(values: Sequence[float]) -> bytes:
    """A vector as stored in `LocalVector.values`."""
    return np.asarray(values, dtype=_DTYPE).tobytes()


def decode_values(data: bytes | memoryview) -> np.ndarray:
    """The float32 vector of a stored `LocalVector.values`."""
    return np.frombuffer(bytes(data), dtype=_DTYPE)


class LocalVectorStore:
    """One namespace of one index name in the `LocalVector` table."""

    def __init__(self, *, index_name: str, namespace: str) -> None:
        if not index_name:
            raise ValueError("A local vector store needs an index name.")
        if not namespace:
            # An empty namespace would be shared by every chatbot using the index name.
            raise ValueError("A local vector store needs a namespace.")
        self.index_name = index_name
        self.namespace = namespace
        self._key = (index_name, namespace)

    def __repr__(self) -> str:
        return f"LocalVectorStore(index_name={self.index_name!r}, namespace={self.namespace!r})"

    # --- writes -------------------------------------------------------------------------------
    def upsert(self, records: Sequence[VectorRecord]) -> None:
        """Insert or overwrite records by id, in batches, in one transaction.

        All vectors of a namespace share one dimension, as in a Pinecone index: a record of another
        width is refused with `vector_store_dimension_mismatch` while the namespace holds vectors.
        """
        if not records:
            return
        with self._span("vector_upsert"):
            self._upsert(records)

    def _upsert(self, records: Sequence[VectorRecord]) -> None:
        # The last record of an id wins, as if the records had been sent one by one (and
        # PostgreSQL refuses to update one row twice in a single statement).
        unique = {record.id: record for record in records}
        dimensions = {len(record.values) for record in unique.values()}
        if len(dimensions) != 1 or 0 in dimensions:
            raise VectorStoreError(
                VECTOR_STORE_DIMENSION_MISMATCH,
                "Vectors of one upsert must all have the same, non-zero dimension.",
            )
        dimension = dimensions.pop()
        rows = [
            LocalVector(
                index_name=self.index_name,
                namespace=self.namespace,
                vector_id=record.id,
                values=encode_values(record.values),
                metadata=record.metadata,
            )
            for record in unique.values()
        ]
        with transaction.atomic():
            stored = self._stored_dimension()
            if stored is not None and stored != dimension:
                raise self._mismatch(stored, dimension)
            LocalVector.objects.bulk_create(
                rows,
                batch_size=WRITE_BATCH_SIZE,
                update_conflicts=True,
                unique_fields=["index_name", "namespace", "vector_id"],
                update_fields=["values", "metadata", "updated_at"],
            )
            self._changed()

    def delete(self, ids: Sequence[str]) -> None:
        """Delete records by id from this namespace; unknown ids are ignored."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return
        with self._span("vector_delete"), transaction.atomic():
            deleted = 0
            for start in range(0, len(ids), WRITE_BATCH_SIZE):
                deleted += (
                    self._rows().filter(vector_id__in=ids[start : start + WRITE_BATCH_SIZE]).delete()[0]
                )
            if deleted:
                self._changed()

    # --- reads --------------------------------------------------------------------------------
    def query(self, vector: Sequence[float], *, top_k: int) -> list[VectorMatch]:
        """Return up to `top_k` records of this namespace nearest to `vector` by cosine, best first."""
        if top_k < 1:
            raise ValueError("top_k must be at least 1.")
        with self._span("vector_query"):
            return self._search(self._matrix(), vector, top_k)

    def _search(self, matrix: _Matrix, vector: Sequence[float], top_k: int) -> list[VectorMatch]:
        if matrix.dimension is None:
            return []
        query = np.asarray(vector, dtype=np.float32)
        if query.ndim != 1 or query.shape[0] != matrix.dimension:
            raise self._mismatch(matrix.dimension, query.shape[0] if query.ndim == 1 else 0)
        norm = float(np.linalg.norm(query))
        if norm == 0.0 or not np.isfinite(norm):
            scores = np.zeros(len(matrix.ids), dtype=np.float32)
        else:
            scores = matrix.vectors @ (query / norm)
        count = min(top_k, len(matrix.ids))
        if count < len(matrix.ids):
            candidates = np.argpartition(-scores, count - 1)[:count]
        else:
            candidates = np.arange(len(matrix.ids))
        # Best first; equal scores in id order, so results do not depend on partitioning.
        order = sorted(candidates.tolist(), key=lambda row: (-float(scores[row]), matrix.ids[row]))
        return [
            VectorMatch(id=matrix.ids[row], score=float(scores[row]), metadata=dict(matrix.metadata[row]))
            for row in order
        ]

    async def aquery(self, vector: Sequence[float], *, top_k: int) -> list[VectorMatch]:
        """`query` for the event loop.

        A matrix whose version was confirmed less than `LOCAL_VECTOR_RECHECK_SECONDS` ago is
        used as it is: another process's change reaches this one's answers within that time, and
        answers do not wait for a Redis round trip, because the versions of the indexes queried
        in the last minutes are confirmed in the background (`CacheWatch`). Otherwise, with Redis, the
        version is read on the loop's own Redis client; when this process holds the matrix of
        that version, a small one is searched right here (a matrix product of
        microseconds) and a large one in a worker thread (NumPy releases the interpreter).
        Loading a matrix reads the database, which blocks: that, and every case without Redis,
        runs `query` in a plain worker thread rather than Django's thread-sensitive one, so
        concurrent chats do not queue behind each other; the thread's database connection,
        opened only when a matrix is (re)loaded, is closed again before returning.
        """
        if top_k < 1:
            raise ValueError("top_k must be at least 1.")
        with self._span("vector_query"):
            return await self._aquery(vector, top_k)

    async def _aquery(self, vector: Sequence[float], top_k: int) -> list[VectorMatch]:
        cached = _matrices.recently_confirmed(self._key, settings.LOCAL_VECTOR_RECHECK_SECONDS)
        if cached is None:
            cached = _matrices.get(self._key, await self._aversion())
        # From now on the version is confirmed in the background, so answers need not wait for it.
        _watched[self._version_key()] = self._key
        _version_watch.touch(self._version_key())
        if cached is not None:
            if cached.vectors.size <= _INLINE_SEARCH_VALUES:
                return self._search(cached, vector, top_k)
            return await sync_to_async(self._search, thread_sensitive=False)(cached, vector, top_k)
        return await sync_to_async(self._query_and_close, thread_sensitive=False)(list(vector), top_k)

    def _query_and_close(self, vector: list[float], top_k: int) -> list[VectorMatch]:
        try:
            return self._search(self._matrix(), vector, top_k)
        finally:
            connections.close_all()

    # --- internals ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _span(self, operation: str) -> Iterator[telemetry.Call]:
        """One recorded call (nothing here waits for the recording)."""
        with telemetry.span(operation=operation, provider="local") as call:
            call.set("db.collection.name", self.index_name)
            call.set("db.namespace", self.namespace)
            try:
                yield call
            except VectorStoreError as exc:
                call.set("error.code", exc.code)
                raise

    def _rows(self):
        return LocalVector.objects.filter(index_name=self.index_name, namespace=self.namespace)

    def _stored_dimension(self) -> int | None:
        sample = self._rows().values_list("values", flat=True).first()
        return None if sample is None else len(bytes(sample)) // _DTYPE.itemsize

    def _mismatch(self, stored: int, given: int) -> VectorStoreError:
        return VectorStoreError(
            VECTOR_STORE_DIMENSION_MISMATCH,
            f'The local index "{self.index_name}" holds vectors of dimension {stored}, not {given}. '
            "Re-ingest its documents into a new index name after changing the embedding model.",
        )

    def _version_key(self) -> str:
        return _VERSION_KEY.format(index=self.index_name, namespace=self.namespace)

    def _version(self) -> str | None:
        """The version of this namespace that all processes see; None when it cannot be read."""
        return shared_version(self._version_key(), rows=lambda: [self._rows()], what="Local vector store")

    async def _aversion(self) -> str | None:
        """`_version` without leaving the event loop, when the cache is Redis; None otherwise
        (and when the token is missing or Redis cannot be read): the caller then goes the
        thread's way, which creates, reads or reports the token as `_version` does."""
        if not isinstance(caches["default"], RedisCache):
            return None
        try:
            return await cache_aget(self._version_key())
        except RedisError:
            return None

    def _changed(self) -> None:
        _matrices.forget(self._key)
        publish_change(self._version_key(), what=repr(self))

    def _matrix(self) -> _Matrix:
        version = self._version()
        cached = _matrices.get(self._key, version)
        if cached is not None:
            return cached
        with _matrices.loading_lock(self._key):
            # Another thread may have loaded it while this one waited.
            cached = _matrices.get(self._key, version)
            if cached is not None:
                return cached
            # The version is read before the rows: a write that lands in between bumps the
            # version again, so at worst this matrix is reloaded once more, never kept stale.
            matrix = self._load(version or "")
            if version is not None:
                _matrices.put(self._key, matrix)
            return matrix

    def _load(self, version: str) -> _Matrix:
        rows = list(self._rows().order_by("vector_id").values_list("vector_id", "values", "metadata"))
        if not rows:
            return _Matrix(version, (), np.zeros((0, 0), dtype=np.float32), ())
        decoded = [decode_values(values) for _, values, _ in rows]
        widths = {vector.shape[0] for vector in decoded}
        if len(widths) != 1:
            raise VectorStoreError(
                VECTOR_STORE_ERROR,
                f'The local index "{self.index_name}" holds vectors of different dimensions '
                f"({', '.join(str(w) for w in sorted(widths))}); re-ingest its documents.",
                permanent=True,
            )
        vectors = np.vstack(decoded).astype(np.float32, copy=False)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        return _Matrix(
            version=version,
            ids=tuple(vector_id for vector_id, _, _ in rows),
            vectors=vectors,
            metadata=tuple(metadata or {} for _, _, metadata in rows),
        )
