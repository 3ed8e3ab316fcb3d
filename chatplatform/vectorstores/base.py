"""The vector store interface: upsert, delete and nearest-neighbour queries in one namespace.

Services depend on these types only; `chatplatform.vectorstores.pinecone` (and the database-backed
local store) implement them, and no SDK type crosses this boundary. A store instance is bound to
one index and one namespace, which is how chatbots are kept apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from chatplatform.calls.failures import FailureKind

# Stable error codes; callers branch on them and show them to admins and API clients.
VECTOR_STORE_AUTH_FAILED = "vector_store_auth_failed"
VECTOR_STORE_INDEX_NOT_FOUND = "vector_store_index_not_found"
VECTOR_STORE_UNAVAILABLE = "vector_store_unavailable"
VECTOR_STORE_TIMEOUT = "vector_store_timeout"
VECTOR_STORE_DIMENSION_MISMATCH = "vector_store_dimension_mismatch"
VECTOR_STORE_ERROR = "vector_store_error"

# Failures that no retry can fix without someone changing configuration or data.
_PERMANENT_CODES = frozenset(
    {VECTOR_STORE_AUTH_FAILED, VECTOR_STORE_INDEX_NOT_FOUND, VECTOR_STORE_DIMENSION_MISMATCH}
)


class VectorStoreError(Exception):
    """A vector store call failed.

    `code` is one of the `VECTOR_STORE_*` constants, `message` is human text that never contains a
    credential, and `permanent` says that retrying the same call cannot help (a rejected key, a
    missing index, a vector of the wrong width) as opposed to an outage or a timeout.
    """

    def __init__(self, code: str, message: str, *, permanent: bool | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.permanent = code in _PERMANENT_CODES if permanent is None else permanent

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def failure_kind(self) -> FailureKind:
        if self.code in (VECTOR_STORE_AUTH_FAILED, VECTOR_STORE_INDEX_NOT_FOUND):
            return FailureKind.CONFIGURATION
        if self.code == VECTOR_STORE_DIMENSION_MISMATCH:
            return FailureKind.INPUT
        return FailureKind.PERMANENT if self.permanent else FailureKind.TRANSIENT

    def __repr__(self) -> str:
        return f"VectorStoreError(code={self.code!r}, message={self.message!r}, permanent={self.permanent})"


@dataclass(frozen=True, slots=True)
class VectorRecord:
    """A vector to store; `id` is unique within the store's namespace."""

    id: str
    values: list[float]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VectorMatch:
    """A stored vector near the query; a higher `score` is more similar (cosine)."""

    id: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class VectorStore(Protocol):
    def upsert(self, records: Sequence[VectorRecord]) -> None:
        """Insert or overwrite records, in batches; safe to repeat after a failure."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Delete records by id; unknown ids are ignored."""
        ...

    def query(self, vector: Sequence[float], *, top_k: int) -> list[VectorMatch]:
        """Return up to `top_k` nearest records, most similar first."""
        ...

    async def aquery(self, vector: Sequence[float], *, top_k: int) -> list[VectorMatch]:
        """`query` for async code, without blocking the event loop."""
        ...
