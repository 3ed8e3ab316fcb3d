"""One document from bytes to vectors: extract, chunk, embed in batches, upsert.

The caller owns the document: it picks the vector store, the ids' prefix and the metadata every
vector carries, and turns progress reports into writes on its own model. A failure is raised as
it came (`ApplicationError` for a refused file, `ProviderError`, `VectorStoreError`); batches
upserted before it stay, so the caller decides what to clean up.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

from chatplatform.ai.base import PROVIDER_BAD_RESPONSE, Embedder, ProviderError
from chatplatform.calls.batch import chunked, run_bounded
from chatplatform.documents.chunking import Chunk, ChunkingConfig, text_chunk
from chatplatform.documents.extraction import (
    Clock,
    ExtractedText,
    ExtractionLimits,
    document_text_extract,
)
from chatplatform.documents.status import DocumentProgress, DocumentStatus, ProgressCallback
from chatplatform.vectorstores.base import (
    VECTOR_STORE_INDEX_NOT_FOUND,
    VectorRecord,
    VectorStore,
    VectorStoreError,
)

# Passages embedded and upserted per round trip: small enough to keep memory flat for big files.
EMBED_BATCH_SIZE = 64
# Share of the progress bar that reading and chunking take; embedding fills the rest.
_EXTRACTED_PERCENT = 10
_CHUNKED_PERCENT = 20


class VectorSink(Protocol):
    """What the pipeline needs of a store: any `VectorStore`, or a wrapper around one."""

    def upsert(self, records: Sequence[VectorRecord]) -> None: ...


@dataclass(frozen=True, slots=True)
class IngestedDocument:
    extracted: ExtractedText
    chunks: list[Chunk]
    ids: list[str]


def document_ingest(
    *,
    name: str,
    data: bytes,
    embedder: Embedder,
    store: VectorSink,
    id_prefix: str,
    metadata: Mapping[str, Any],
    chunking: ChunkingConfig | None = None,
    limits: ExtractionLimits | None = None,
    progress: ProgressCallback | None = None,
    batch_size: int = EMBED_BATCH_SIZE,
    concurrency: int | None = None,
    clock: Clock = time.monotonic,
) -> IngestedDocument:
    """Store one document's passages as vectors `<id_prefix>-<n>` in `store`.

    Each vector's metadata is `metadata` plus the passage's `text`, `section` and `chunk` number.
    Chunking, limits and `concurrency` (batches embedded at once, `DOCUMENT_EMBED_CONCURRENCY`)
    default to the settings. `progress` hears every step, ending at 100.
    """
    report = progress or _ignore
    chunking = chunking or ChunkingConfig.from_settings()
    report(DocumentProgress(DocumentStatus.PROCESSING, 0, f'Reading "{name}".'))
    extracted = document_text_extract(name=name, data=data, limits=limits, clock=clock)
    report(DocumentProgress(DocumentStatus.PROCESSING, _EXTRACTED_PERCENT, "Cutting the text into passages."))
    chunks = text_chunk(
        extracted.text, chunk_tokens=chunking.chunk_tokens, overlap_tokens=chunking.overlap_tokens
    )
    total = len(chunks)
    report(_embedding_progress(0, total))
    ids: list[str] = []
    concurrency = settings.DOCUMENT_EMBED_CONCURRENCY if concurrency is None else concurrency
    # Up to `concurrency` batches are embedded at once; they are stored and reported one by one,
    # in order and in this thread, whose database connection and transaction the store may use.
    for wave in chunked(chunks, batch_size * max(1, concurrency)):
        vectors = run_bounded(
            lambda batch: _batch_embed(embedder, batch), wave, batch_size=batch_size, concurrency=concurrency
        )
        for batch, values in zip(chunked(wave, batch_size), vectors, strict=True):
            records = [
                VectorRecord(
                    id=vector_id(id_prefix, chunk.index),
                    values=vector,
                    metadata={**metadata, "text": chunk.text, "section": chunk.section, "chunk": chunk.index},
                )
                for chunk, vector in zip(batch, values, strict=True)
            ]
            store.upsert(records)
            ids.extend(record.id for record in records)
            report(_embedding_progress(len(ids), total))
    return IngestedDocument(extracted=extracted, chunks=chunks, ids=ids)


def _batch_embed(embedder: Embedder, batch: Sequence[Chunk]) -> list[list[float]]:
    vectors = embedder.embed([chunk.text for chunk in batch])
    if len(vectors) != len(batch):
        raise ProviderError(
            PROVIDER_BAD_RESPONSE,
            f"The embedding provider returned {len(vectors)} vectors for {len(batch)} passages.",
        )
    return vectors


def vector_id(prefix: str, chunk: int) -> str:
    """The id of a document's passage in the vector store."""
    return f"{prefix}-{chunk}"


def vector_ids(prefix: str, start: int, stop: int) -> list[str]:
    """The ids of a document's passages `start` to `stop - 1`."""
    return [vector_id(prefix, n) for n in range(start, stop)]


def vectors_delete(store: VectorStore, ids: Sequence[str]) -> None:
    """Delete ids from a store; an index that no longer exists counts as done."""
    if not ids:
        return
    try:
        store.delete(ids)
    except VectorStoreError as exc:
        # An index that no longer exists holds no vectors to delete.
        if exc.code != VECTOR_STORE_INDEX_NOT_FOUND:
            raise


def embedding_model_name(embedder: Embedder) -> str:
    """What produced a document's vectors, e.g. `openai/text-embedding-3-small@1536` or `local@512`."""
    model = getattr(embedder, "model", None)
    base = f"{embedder.name}/{model}" if model else embedder.name
    return f"{base}@{embedder.dimension}"


def _embedding_progress(done: int, total: int) -> DocumentProgress:
    share = 100 - _CHUNKED_PERCENT
    percent = 100 if total == 0 else _CHUNKED_PERCENT + share * done // total
    return DocumentProgress(
        DocumentStatus.PROCESSING, percent, f"Embedded {done} of {total} passages.", done, total
    )


def _ignore(_: DocumentProgress) -> None:
    return
