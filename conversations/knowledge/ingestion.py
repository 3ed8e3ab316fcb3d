"""Ingestion of one knowledge document: the shared pipeline, then this app's bookkeeping.

`chatplatform.documents.pipeline` extracts, chunks, embeds and upserts; this module picks the
flow's store, names the vectors `doc<id>-<n>` in the chatbot's namespace, cleans up stale ids,
and writes status and progress on the `KnowledgeDocument`. New chunks are upserted first and stale
ids deleted last, so a failure leaves the previous vectors overwritten only where the new ones
already landed. The document remembers where its vectors may be: ids below `indexed_chunks` in
`indexed_in` and in the index its flow uses now, which is where deletion and the next ingestion
clean up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django.utils import timezone

from chatplatform import telemetry
from chatplatform.ai.base import ProviderError
from chatplatform.calls import FailureKind, classify_failure
from chatplatform.documents.pipeline import document_ingest, embedding_model_name, vector_ids, vectors_delete
from chatplatform.documents.status import DocumentProgress
from chatplatform.errors import ApplicationError
from chatplatform.vectorstores.base import VectorRecord, VectorStore, VectorStoreError
from conversations.knowledge.layouts import embedder_for
from conversations.knowledge.stores import (
    document_previous_store,
    flow_index_name,
    flow_layout,
    vector_store_for,
)
from conversations.models import KnowledgeDocument

__all__ = [
    "Progress",
    "document_vector_ids",
    "embedding_model_name",
    "knowledge_document_ingest",
    "vectors_delete",
]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (chunks embedded and stored so far, chunks in total)."""

_MAX_ERROR_LENGTH = 1000
_Status = KnowledgeDocument.Status


def document_vector_ids(document_id: int, start: int, stop: int) -> list[str]:
    """The ids of a document's chunks `start` to `stop - 1`."""
    return vector_ids(_id_prefix(document_id), start, stop)


def _id_prefix(document_id: int) -> str:
    return f"doc{document_id}"


def knowledge_document_ingest(*, document_id: int, progress: Progress | None = None) -> KnowledgeDocument:
    """Extract, chunk, embed and store one document's vectors; the body of the ingestion task.

    Marks the document `processing`, then `ready` with its chunk count, index and embedding model,
    or `failed` with a human error. Returns the document in both cases, except that a transient
    failure (a vector store or AI provider outage) is raised after marking the document failed,
    so that the task retries. A missing document raises `document_not_found`.
    """
    document = _document_claim(document_id)
    try:
        with telemetry.context(
            tenant_type="chatbot", tenant_id=document.chatbot.chatbot_id, feature="ingestion"
        ):
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
        status=_Status.PROCESSING, progress=0, error="", updated_at=timezone.now()
    )
    if not claimed:
        raise ApplicationError("document_not_found", f"There is no document {document_id}.", status_code=404)
    return KnowledgeDocument.objects.select_related("chatbot").get(pk=document_id)


def _document_index(document: KnowledgeDocument, progress: Progress | None) -> None:
    chatbot = document.chatbot
    index_name = flow_index_name(chatbot, document.flow)
    # Written as the flow's index is laid out, so that retrieval finds it beside older records.
    layout = flow_layout(chatbot, document.flow)
    store = _UpsertCounter(
        vector_store_for(chatbot=chatbot, index_name=index_name, namespace=layout.namespace)
    )
    embedder = embedder_for(layout.embedding_model)
    planned = 0

    def report(step: DocumentProgress) -> None:
        nonlocal planned
        if step.percent != document.progress:
            document.progress = step.percent
            KnowledgeDocument.objects.filter(pk=document.pk).update(
                progress=step.percent, updated_at=timezone.now()
            )
        # Only the embedding steps know the number of passages; reading and chunking come first.
        if step.total:
            planned = step.total
            if progress:
                progress(step.done, step.total)

    try:
        ingested = document_ingest(
            name=document.source_name,
            data=_stored_bytes(document),
            embedder=embedder,
            store=store,
            id_prefix=_id_prefix(document.pk),
            metadata={"source": document.title, "document_id": document.pk, "flow": document.flow},
            progress=report,
        )
        total = len(ingested.chunks)
        # Stale ids last: those beyond the new count here, and everything in a previous index.
        vectors_delete(store, document_vector_ids(document.pk, total, document.indexed_chunks))
        previous = document_previous_store(document=document)
        if previous is not None and document.indexed_in != index_name:
            vectors_delete(previous, document_vector_ids(document.pk, 0, document.indexed_chunks))
    except Exception:
        if store.attempted:
            # New vectors may exist now; remember them so deletion and the next ingestion find
            # them. The flow's current index is always searched, so a previous index is kept.
            document.indexed_chunks = max(document.indexed_chunks, store.attempted)
            document.indexed_in = document.indexed_in or index_name
            document.chunk_count = planned
        raise

    done = KnowledgeDocument.objects.filter(pk=document.pk).update(
        status=_Status.READY,
        progress=100,
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


class _UpsertCounter:
    """The flow's store, counting the passages sent to it: an upsert that fails half-way may
    still have landed some of them, and their ids must be remembered for clean-up."""

    def __init__(self, store: VectorStore) -> None:
        self.store = store
        self.attempted = 0

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        self.attempted += len(records)
        self.store.upsert(records)

    def delete(self, ids: Sequence[str]) -> None:
        self.store.delete(ids)


def _stored_bytes(document: KnowledgeDocument) -> bytes:
    try:
        with document.file.open("rb") as handle:
            return handle.read()
    except (OSError, ValueError) as exc:
        raise ApplicationError(
            "document_unreadable", "The stored file of this document is missing; upload it again."
        ) from exc


def _is_transient(exc: Exception) -> bool:
    # The task and the reindex job try again after store and provider errors only; anything
    # else is a bug that a retry would repeat.
    return (
        isinstance(exc, VectorStoreError | ProviderError) and classify_failure(exc) is FailureKind.TRANSIENT
    )


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
