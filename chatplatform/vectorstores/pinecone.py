"""Pinecone as a vector store, through the official SDK (`pinecone` 10.x).

One `PineconeVectorStore` is one namespace of one index; a chatbot's namespace keeps its vectors
apart from every other chatbot's in a shared index. SDK clients and resolved index hosts are cached
process-wide (see `_SdkCache`), so a store is cheap to build per request or per task.

Retries: the SDK retries 408/429/5xx and connection failures itself (3 retries, jittered backoff
that honours `Retry-After`, a per-host retry budget), so this module adds none. `timeout` is the
SDK's per-attempt timeout; a call that keeps failing can take a few attempts' worth of time.

`aquery` runs the synchronous query in a worker thread (`asyncio.to_thread`) rather than using
the SDK's `AsyncIndex`: an `AsyncIndex` binds its connection pool to the event loop of its first
call and fails with "Event loop is closed" when reused from another loop (Celery tasks using
`async_to_sync`, management commands, tests), so caching one per process is unsound, and one per
loop needs an `aclose()` that nothing would call. The thread hop costs far less than the HTTP call
it wraps, and sync and async callers share one cache, one connection pool and one error mapping.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from pinecone import (
    ApiError,
    ForbiddenError,
    NotFoundError,
    Pinecone,
    PineconeConnectionError,
    PineconeError,
    PineconeTimeoutError,
    PineconeTypeError,
    PineconeValueError,
    RateLimitError,
    ServiceError,
    UnauthorizedError,
)

from chatplatform.calls import invoke
from chatplatform.calls.batch import run_bounded
from chatplatform.vectorstores.base import (
    VECTOR_STORE_AUTH_FAILED,
    VECTOR_STORE_DIMENSION_MISMATCH,
    VECTOR_STORE_ERROR,
    VECTOR_STORE_INDEX_NOT_FOUND,
    VECTOR_STORE_TIMEOUT,
    VECTOR_STORE_UNAVAILABLE,
    VectorMatch,
    VectorRecord,
    VectorStoreError,
)

if TYPE_CHECKING:
    from pinecone import Index
    from pinecone.models.indexes.index import IndexModel

logger = logging.getLogger(__name__)

PUBLIC_CONTROLLER_HOST = "https://api.pinecone.io"
UPSERT_BATCH_SIZE = 100
DELETE_BATCH_SIZE = 1000  # Pinecone's limit of ids per delete request
_MAX_CLIENTS = 32
_MAX_INDEXES = 256

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _ResolvedIndex:
    host: str
    dimension: int | None
    handle: Index


def _fingerprint(api_key: str) -> str:
    # Cache keys hold a digest, not the key, so dumping a cache never shows a credential.
    return hashlib.sha256(api_key.encode()).hexdigest()


def controller_host_url(controller_host: str | None) -> str:
    # Always name the host: left empty, the SDK would read PINECONE_CONTROLLER_HOST itself.
    return controller_host or settings.PINECONE_CONTROLLER_HOST or PUBLIC_CONTROLLER_HOST


def redact_key(text: str, api_key: str) -> str:
    return text.replace(api_key, "[redacted]") if api_key else text


def dense_dimension(model: IndexModel) -> int | None:
    # The SDK derives `dimension` from the schema and raises AttributeError when the index has
    # no single dense field (sparse or multi-field indexes); then the server checks widths alone.
    return getattr(model, "dimension", None)


class _SdkCache:
    """Process-wide SDK clients (one per API key, controller and timeout) and resolved indexes.

    A `Pinecone` client and each `Index` hold an HTTP connection pool, so reusing them saves a TCP
    and TLS handshake per call; the index host is described once and then reused. Both caches are
    LRU-bounded. Evicted objects are left to garbage collection rather than closed, because
    another thread may still be using them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: OrderedDict[tuple[str, str, float], Pinecone] = OrderedDict()
        self._indexes: OrderedDict[tuple[str, str, float, str], _ResolvedIndex] = OrderedDict()
        self._resolving: dict[tuple[str, str, float, str], threading.Lock] = {}

    def client(self, *, api_key: str, controller_host: str, timeout: float) -> Pinecone:
        key = (_fingerprint(api_key), controller_host, timeout)
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
            try:
                client = Pinecone(api_key=api_key, host=controller_host, timeout=timeout)
            except PineconeValueError as exc:
                # The SDK refuses a key that is not a valid header value (blank, a trailing newline).
                raise VectorStoreError(VECTOR_STORE_AUTH_FAILED, redact_key(exc.message, api_key)) from exc
            self._clients[key] = client
            if len(self._clients) > _MAX_CLIENTS:
                self._clients.popitem(last=False)
            return client

    def index(
        self,
        *,
        api_key: str,
        controller_host: str,
        timeout: float,
        index_name: str,
        resolve: Callable[[Pinecone], _ResolvedIndex],
    ) -> _ResolvedIndex:
        key = (_fingerprint(api_key), controller_host, timeout, index_name)
        with self._lock:
            resolved = self._indexes.get(key)
            if resolved is not None:
                self._indexes.move_to_end(key)
                return resolved
            resolving = self._resolving.setdefault(key, threading.Lock())
        # One describe per index, without holding the cache lock across a network call: other
        # indexes stay usable while this one is being resolved.
        with resolving:
            with self._lock:
                resolved = self._indexes.get(key)
            if resolved is not None:
                return resolved
            try:
                client = self.client(api_key=api_key, controller_host=controller_host, timeout=timeout)
                resolved = resolve(client)
            except BaseException:
                with self._lock:
                    self._resolving.pop(key, None)
                raise
            with self._lock:
                self._indexes[key] = resolved
                self._resolving.pop(key, None)
                if len(self._indexes) > _MAX_INDEXES:
                    self._indexes.popitem(last=False)
            return resolved

    def forget_index(self, *, api_key: str, controller_host: str, timeout: float, index_name: str) -> None:
        with self._lock:
            self._indexes.pop((_fingerprint(api_key), controller_host, timeout, index_name), None)

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()
            self._indexes.clear()


_cache = _SdkCache()


def pinecone_cache_clear() -> None:
    """Forget every cached client and resolved index (tests whose servers share a key)."""
    _cache.clear()


def _translate(exc: PineconeError, *, index_name: str, api_key: str, timeout: float) -> VectorStoreError:
    """Map an SDK exception to a `VectorStoreError` whose message is safe to show."""
    detail = redact_key(getattr(exc, "message", None) or str(exc), api_key)
    if isinstance(exc, UnauthorizedError):
        return VectorStoreError(VECTOR_STORE_AUTH_FAILED, "Pinecone rejected the API key.")
    if isinstance(exc, ForbiddenError):
        return VectorStoreError(
            VECTOR_STORE_AUTH_FAILED, f'The Pinecone API key may not use the index "{index_name}".'
        )
    if isinstance(exc, NotFoundError):
        return VectorStoreError(
            VECTOR_STORE_INDEX_NOT_FOUND,
            f'The Pinecone index "{index_name}" does not exist in this Pinecone project.',
        )
    if isinstance(exc, RateLimitError):
        return VectorStoreError(
            VECTOR_STORE_UNAVAILABLE, "Pinecone is rate limiting requests; try again later.", permanent=False
        )
    if isinstance(exc, ServiceError):
        return VectorStoreError(
            VECTOR_STORE_UNAVAILABLE,
            f"Pinecone is unavailable (HTTP {exc.status_code}); try again later.",
            permanent=False,
        )
    if isinstance(exc, PineconeTimeoutError):
        return VectorStoreError(
            VECTOR_STORE_TIMEOUT, f"Pinecone did not answer within {timeout:g} seconds.", permanent=False
        )
    if isinstance(exc, PineconeConnectionError):
        return VectorStoreError(
            VECTOR_STORE_UNAVAILABLE, f"Pinecone could not be reached: {detail}", permanent=False
        )
    if isinstance(exc, ApiError):
        if exc.status_code == 400 and "dimension" in detail.lower():
            return VectorStoreError(VECTOR_STORE_DIMENSION_MISMATCH, detail)
        return VectorStoreError(
            VECTOR_STORE_ERROR,
            f"Pinecone refused the request (HTTP {exc.status_code}): {detail}",
            permanent=400 <= exc.status_code < 500,
        )
    if isinstance(exc, PineconeValueError | PineconeTypeError):
        return VectorStoreError(VECTOR_STORE_ERROR, f"Invalid Pinecone request: {detail}", permanent=True)
    return VectorStoreError(VECTOR_STORE_ERROR, f"Pinecone failed: {detail}", permanent=False)


class PineconeVectorStore:
    """One namespace of one Pinecone index.

    Nothing is sent until the first call, which describes the index once per process (to find its
    host and dimension). Every failure raises `VectorStoreError`; its message never contains the
    API key, and neither does `repr()` of the store.
    """

    def __init__(
        self,
        *,
        api_key: str,
        index_name: str,
        namespace: str,
        controller_host: str | None = None,
        timeout: float | None = None,
        default_namespace: bool = False,
    ) -> None:
        """`controller_host` and `timeout` default to `PINECONE_CONTROLLER_HOST` and
        `PINECONE_TIMEOUT_SECONDS`; an unset controller host means Pinecone's public API.
        `default_namespace=True` (with `namespace=""`) reads and writes the index's default
        namespace, where indexes written by other systems often keep everything."""
        if not api_key:
            raise VectorStoreError(VECTOR_STORE_AUTH_FAILED, "No Pinecone API key is configured.")
        if not index_name:
            raise VectorStoreError(VECTOR_STORE_INDEX_NOT_FOUND, "No Pinecone index is configured.")
        if not namespace and not default_namespace:
            # The default namespace would be shared by every chatbot using the index: only on request.
            raise ValueError("A Pinecone vector store needs a namespace.")
        if namespace and default_namespace:
            raise ValueError("default_namespace=True takes no namespace name.")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive.")
        self._api_key = api_key
        self.index_name = index_name
        self.namespace = namespace
        self.controller_host = controller_host_url(controller_host)
        self.timeout = settings.PINECONE_TIMEOUT_SECONDS if timeout is None else timeout

    def __repr__(self) -> str:
        return f"PineconeVectorStore(index_name={self.index_name!r}, namespace={self.namespace!r})"

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        """Insert or overwrite records in batches of `UPSERT_BATCH_SIZE`.

        Batches are sent in order; when one fails the earlier ones stay written, and since an
        upsert overwrites by id, repeating the whole call is the way to recover.
        """
        if not records:
            return
        index = self._index()
        vectors = []
        for record in records:
            vector: dict[str, Any] = {"id": record.id, "values": self._values(index, record.values)}
            if record.metadata:
                vector["metadata"] = record.metadata
            vectors.append(vector)
        run_bounded(
            lambda batch: self._call(
                index,
                lambda: index.handle.upsert(vectors=list(batch), namespace=self.namespace),
                operation="vector_upsert",
            ),
            vectors,
            batch_size=UPSERT_BATCH_SIZE,
        )

    def delete(self, ids: Sequence[str]) -> None:
        """Delete records by id from this namespace; unknown ids are ignored."""
        ids = list(ids)
        if not ids:
            return
        index = self._index()
        run_bounded(
            lambda chunk: self._call(
                index,
                lambda: index.handle.delete(ids=list(chunk), namespace=self.namespace),
                operation="vector_delete",
            ),
            ids,
            batch_size=DELETE_BATCH_SIZE,
        )

    def query(self, vector: Sequence[float], *, top_k: int) -> list[VectorMatch]:
        """Return up to `top_k` records of this namespace nearest to `vector`, best first."""
        if top_k < 1:
            raise ValueError("top_k must be at least 1.")
        index = self._index()
        values = self._values(index, vector)
        response = self._call(
            index,
            lambda: index.handle.query(
                vector=values, top_k=top_k, namespace=self.namespace, include_metadata=True
            ),
            operation="vector_query",
        )
        return [
            VectorMatch(id=match.id, score=float(match.score), metadata=dict(match.metadata or {}))
            for match in response.matches
        ]

    async def aquery(self, vector: Sequence[float], *, top_k: int) -> list[VectorMatch]:
        """`query` in a worker thread, so the event loop keeps serving other connections."""
        return await asyncio.to_thread(self.query, list(vector), top_k=top_k)

    def _index(self) -> _ResolvedIndex:
        try:
            return _cache.index(
                api_key=self._api_key,
                controller_host=self.controller_host,
                timeout=self.timeout,
                index_name=self.index_name,
                resolve=self._resolve,
            )
        except PineconeError as exc:
            raise self._failed(exc) from exc

    def _resolve(self, client: Pinecone) -> _ResolvedIndex:
        model = client.indexes.describe(self.index_name)
        if not model.status.ready or not model.host:
            # Not cached, so the next call describes the index again.
            error = VectorStoreError(
                VECTOR_STORE_UNAVAILABLE,
                f'The Pinecone index "{self.index_name}" is not ready (state: {model.status.state}).',
                permanent=False,
            )
            logger.warning("Pinecone index not ready: index=%s state=%s", self.index_name, model.status.state)
            raise error
        return _ResolvedIndex(
            host=model.host, dimension=dense_dimension(model), handle=client.index(host=model.host)
        )

    def _values(self, index: _ResolvedIndex, vector: Sequence[float]) -> list[float]:
        # Checked here because the server's answer to a wrong width is a generic 400, and because
        # numpy floats must become plain floats before the SDK encodes them.
        if index.dimension is not None and len(vector) != index.dimension:
            raise VectorStoreError(
                VECTOR_STORE_DIMENSION_MISMATCH,
                f'The Pinecone index "{self.index_name}" holds vectors of dimension {index.dimension}, '
                f"not {len(vector)}.",
            )
        return [float(value) for value in vector]

    def _call(self, index: _ResolvedIndex, request: Callable[[], T], *, operation: str) -> T:
        """`request()` as one recorded call; the SDK retries, so `invoke` does not."""
        return invoke(
            self._call_once,
            index,
            request,
            operation=operation,
            provider="pinecone",
            retries=0,
            attributes={"db.collection.name": self.index_name, "db.namespace": self.namespace},
        )

    def _call_once(self, index: _ResolvedIndex, request: Callable[[], T]) -> T:
        try:
            return request()
        except PineconeError as exc:
            if isinstance(exc, NotFoundError | PineconeConnectionError):
                # The index may have been deleted or recreated under a new host: describe it again
                # on the next call instead of failing forever against a stale host.
                _cache.forget_index(
                    api_key=self._api_key,
                    controller_host=self.controller_host,
                    timeout=self.timeout,
                    index_name=self.index_name,
                )
            raise self._failed(exc) from exc

    def _failed(self, exc: PineconeError) -> VectorStoreError:
        error = _translate(exc, index_name=self.index_name, api_key=self._api_key, timeout=self.timeout)
        logger.warning(
            "Pinecone call failed: index=%s namespace=%s code=%s: %s",
            self.index_name,
            self.namespace,
            error.code,
            error.message,
        )
        return error
