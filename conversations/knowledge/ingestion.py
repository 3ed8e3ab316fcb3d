"""Ingestion of one knowledge document: extract, chunk, embed, upsert, then clean up.

A document's vectors have the ids `doc<id>-<n>` in its chatbot's namespace of its flow's index.
New chunks are upserted first and stale ids deleted last, so a failure leaves the previous
vectors overwritten only where the new ones already landed. The document remembers where its
vectors may be: ids below `indexed_chunks` in `indexed_in` and in the index its flow uses now,
which is where deletion and the next ingestion clean up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.utils import timezone

from chatplatform.ai import get_embedder
from chatplatform.ai.base import PROVIDER_BAD_RESPONSE, Embedder, ProviderError
from chatplatform.errors import ApplicationError
from chatplatform.vectorstores.base import (
    VECTOR_STORE_INDEX_NOT_FOUND,
    VectorRecord,
    VectorStore,
    VectorStoreError,
)
from conversations.knowledge.chunking import Chunk, text_chunk
from conversations.knowledge.extraction import document_text_extract
from conversations.knowledge.stores import document_previous_store, flow_index_name, vector_store_for
from conversations.models import KnowledgeDocument

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (chunks embedded and stored so far, chunks in total)."""

# Chunks embedded and upserted per round trip: small enough to keep memory flat for big files.
EMBED_BATCH_SIZE = 64
_MAX_ERROR_LENGTH = 1000
_Status = KnowledgeDocument.Status


def vector_id(document_id: int, chunk: int) -> str:
    """The id of a document's chunk in the vector store."""
    return f"doc{document_id}-{chunk}"


def embedding_model_name(embedder: Embedder) -> str:
    """What produced a document's vectors, e.g. `openai/text-embedding-3-small@1536` or `local@512`."""
    model = getattr(embedder, "model", None)
    base = f"{embedder.name}/{model}" if model else embedder.name
    return f"{base}@{embedder.dimension}"


def knowledge_document_ingest(*, document_id: int, progress: Progress | None = None) -> KnowledgeDocument:
    """Extract, chunk, embed and store one document's vectors; the body of the ingestion task.

    Marks the document `processing`, then `ready` with its chunk count, index and embedding model,
    or `failed` with a human error. Returns the document in both cases, except that a transient
    failure (a vector store or AI provider outage) is raised after marking the document failed,
    so that the task retries. A missing document raises `document_not_found`.
    """
    document = _document_claim(document_id)
    try:
        _document_index(document, progress)
    except Exception as exc:
        _document_fail(document, exc)
        if _is_transient(exc):
            raise
        if not isinstance(exc, ApplicationError | VectorStoreError | ProviderError):
            logger.exception("Ingestion of knowledge document %s failed unexpectedly", document_id)
    return document


def _document_claim(document_id: int) -> KnowledgeDocument:
    claimed = KnowledgeDocument.objects.filter(pk=document_id).update(
        status=_Status.PROCESSING, error="", updated_at=timezone.now()
    )
    if not claimed:
        raise ApplicationError("document_not_found", f"There is no document {document_id}.", status_code=404)
    return KnowledgeDocument.objects.select_related("chatbot").get(pk=document_id)


def _document_index(document: KnowledgeDocument, progress: Progress | None) -> None:
    chatbot = document.chatbot
    index_name = flow_index_name(chatbot, document.flow)
    store = vector_store_for(chatbot=chatbot, index_name=index_name)
    extracted = document_text_extract(name=document.source_name, data=_stored_bytes(document))
    chunks = text_chunk(extracted.text)
    embedder = get_embedder()
    total = len(chunks)
    if progress:
        progress(0, total)
    attempted = 0
    try:
        for start in range(0, total, EMBED_BATCH_SIZE):
            batch = chunks[start : start + EMBED_BATCH_SIZE]
            vectors = embedder.embed([chunk.text for chunk in batch])
            if len(vectors) != len(batch):
                raise ProviderError(
                    PROVIDER_BAD_RESPONSE,
                    f"The embedding provider returned {len(vectors)} vectors for {len(batch)} passages.",
                )
            attempted = start + len(batch)
            store.upsert(
                [
                    VectorRecord(
                        id=vector_id(document.pk, chunk.index),
                        values=values,
                        metadata=_metadata(document, chunk),
                    )
                    for chunk, values in zip(batch, vectors, strict=True)
                ]
            )
            if progress:
                progress(attempted, total)
        # Stale ids last: those beyond the new count here, and everything in a previous index.
        vectors_delete(store, document_vector_ids(document.pk, total, document.indexed_chunks))
        previous = document_previous_store(document=document)
        if previous is not None and document.indexed_in != index_name:
            vectors_delete(previous, document_vector_ids(document.pk, 0, document.indexed_chunks))
    except Exception:
        if attempted:
            # New vectors may exist now; remember them so deletion and the next ingestion find
            # them. The flow's current index is always searched, so a previous index is kept.
            document.indexed_chunks = max(document.indexed_chunks, attempted)
            document.indexed_in = document.indexed_in or index_name
            document.chunk_count = total
        raise

    done = KnowledgeDocument.objects.filter(pk=document.pk).update(
        status=_Status.READY,
        error="",
        chunk_count=total,
        indexed_in=index_name,
        indexed_chunks=total,
        embedding_model=embedding_model_name(embedder),
        updated_at=timezone.now(),
    )
    if not done:
        # Deleted while it was being ingested: its vectors were removed before these landed.
        logger.info("Knowledge document %s was deleted during ingestion; removing its vectors", document.pk)
        vectors_delete(store, document_vector_ids(document.pk, 0, total))
        return
    document.refresh_from_db()


def _stored_bytes(document: KnowledgeDocument) -> bytes:
    try:
        with document.file.open("rb") as handle:
            return handle.read()
    except (OSError, ValueError) as exc:
        raise ApplicationError(
            "document_unreadable", "The stored file of this document is missing; upload it again."
        ) from exc


def _metadata(document: KnowledgeDocument, chunk: Chunk) -> dict[str, Any]:
    return {
        "text": chunk.text,
        "source": document.title,
        "section": chunk.section,
        "document_id": document.pk,
        "chunk": chunk.index,
        "flow": document.flow,
    }


def document_vector_ids(document_id: int, start: int, stop: int) -> list[str]:
    """The ids of a document's chunks `start` to `stop - 1`."""
    return [vector_id(document_id, n) for n in range(start, stop)]


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


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, VectorStoreError):
        return not exc.permanent
    if isinstance(exc, ProviderError):
        return exc.retryable
    return False


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ApplicationError | VectorStoreError):
        text = exc.message
    elif isinstance(exc, ProviderError):
        text = f"Embedding failed: {exc.message}"
    else:
        text = "Ingestion failed unexpectedly; the worker log has the details."
    return text[:_MAX_ERROR_LENGTH]


def _document_fail(document: KnowledgeDocument, exc: Exception) -> None:
    document.status = _Status.FAILED
    document.error = _error_text(exc)
    KnowledgeDocument.objects.filter(pk=document.pk).update(
        status=document.status,
        error=document.error,
        chunk_count=document.chunk_count,
        indexed_in=document.indexed_in,
        indexed_chunks=document.indexed_chunks,
        updated_at=timezone.now(),
    )
    logger.warning("Ingestion of knowledge document %s failed: %s", document.pk, document.error)
