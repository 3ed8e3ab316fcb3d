"""Write paths of the knowledge base: upload, re-ingest, rename, load and delete documents.

Ingestion itself, the body of the background task, is in `ingestion`; `knowledge_document_ingest`
is available here too, as the services are where callers look for it. The task calls `ingestion`,
not this module, so the services can queue it without an import cycle.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from rest_framework import status

from chatplatform.ai.base import ProviderError
from chatplatform.documents.extraction import document_size_check, document_text_extract
from chatplatform.errors import ApplicationError
from chatplatform.vectorstores.base import VectorStore, VectorStoreError
from conversations.knowledge.ingestion import (
    Progress,
    document_vector_ids,
    embedding_model_name,
    knowledge_document_ingest,
    vectors_delete,
)
from conversations.knowledge.layouts import embedder_for
from conversations.knowledge.stores import (
    document_previous_store,
    flow_index_name,
    flow_layout,
    vector_store_for,
)
from conversations.knowledge.tasks import ingest_document
from conversations.models import ChatbotSettings, KnowledgeDocument

__all__ = [
    "DocumentLoad",
    "knowledge_document_create",
    "knowledge_document_delete",
    "knowledge_document_ingest",
    "knowledge_document_load",
    "knowledge_document_update",
    "knowledge_documents_reingest",
]

logger = logging.getLogger(__name__)

_Status = KnowledgeDocument.Status


# --- upload ------------------------------------------------------------------------------------


def knowledge_document_create(
    *,
    chatbot: ChatbotSettings,
    flow: str,
    uploaded_file: File,
    title: str = "",
    enqueue: bool = True,
) -> KnowledgeDocument:
    """Store an uploaded document in one of the chatbot's flows and queue its ingestion.

    The file is checked synchronously (type, size, readable, not empty) by extracting its text
    once, so a bad file is refused with its error code before anything is stored. A document is
    identified by (chatbot, flow, file name): uploading the same name again replaces the file and
    ingests it again; its old vectors are replaced by that ingestion. Without `title` a new
    document is titled by its first heading or its file name, and a replaced one keeps its title.
    With `enqueue=False` nothing is queued and the caller runs `knowledge_document_ingest`.
    """
    flow_index_name(chatbot, flow)
    source_name = _source_name(uploaded_file.name or "")
    document_size_check(name=source_name, size=uploaded_file.size or 0)
    uploaded_file.seek(0)
    data = uploaded_file.read()
    extracted = document_text_extract(name=source_name, data=data)
    fields = {
        "content_type": extracted.content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "status": _Status.PENDING,
        "progress": 0,
        "error": "",
    }
    title = title.strip()[:200]
    default_title = (extracted.first_heading or source_name)[:200]
    store = functools.partial(
        _document_store,
        chatbot=chatbot,
        flow=flow,
        source_name=source_name,
        data=data,
        title=title,
        default_title=default_title,
        fields=fields,
        enqueue=enqueue,
    )
    try:
        return store()
    except IntegrityError:
        # Two uploads of a new name raced; the other one created the row, so replace it.
        return store()


def _document_store(
    *,
    chatbot: ChatbotSettings,
    flow: str,
    source_name: str,
    data: bytes,
    title: str,
    default_title: str,
    fields: dict[str, Any],
    enqueue: bool,
) -> KnowledgeDocument:
    new_file = ""
    storage: Storage | None = None
    try:
        with transaction.atomic():
            document = (
                KnowledgeDocument.objects.select_for_update()
                .filter(chatbot=chatbot, flow=flow, source_name=source_name)
                .first()
            )
            if document is None:
                document = KnowledgeDocument(chatbot=chatbot, flow=flow, source_name=source_name)
            old_file = document.file.name or ""
            document.title = title or document.title or default_title
            for name, value in fields.items():
                setattr(document, name, value)
            storage = document.file.storage
            document.file.save(source_name, ContentFile(data), save=False)
            new_file = document.file.name
            document.save()
            if old_file and old_file != new_file:
                transaction.on_commit(lambda: _file_delete(storage, old_file))
            if enqueue:
                _ingestion_enqueue(document.pk)
    except BaseException:
        # Nothing half-written: a refused or failed upload leaves no file behind.
        if new_file and storage is not None:
            _file_delete(storage, new_file)
        raise
    return document


def _source_name(name: str) -> str:
    # Browsers on Windows may send a full path; only the file name identifies the document.
    base = os.path.basename(name.replace("\\", "/")).strip()
    if not base:
        raise ApplicationError(
            "invalid", "The uploaded file has no name.", fields={"file": ["No file name."]}
        )
    if len(base) > 255:
        stem, extension = os.path.splitext(base)
        base = stem[: 255 - len(extension)] + extension
    return base


def _file_delete(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        logger.warning("Could not delete the knowledge-base file %s", name, exc_info=True)


def _ingestion_enqueue(document_id: int) -> None:
    def send() -> None:
        try:
            ingest_document.delay(document_id)
        except BrokerError:
            logger.exception("Could not queue the ingestion of knowledge document %s", document_id)
            KnowledgeDocument.objects.filter(pk=document_id).update(
                status=_Status.FAILED,
                error="The ingestion could not be queued; re-ingest the document when the workers are back.",
                updated_at=timezone.now(),
            )

    # Robust: once the upload is committed, a broken queue must not turn it into an error page.
    transaction.on_commit(send, robust=True)


def knowledge_documents_reingest(*, documents: Iterable[KnowledgeDocument]) -> int:
    """Queue the ingestion of documents again (e.g. after changing the embedding model).

    Returns how many were queued.
    """
    ids = [document.pk for document in documents]
    with transaction.atomic():
        KnowledgeDocument.objects.filter(pk__in=ids).update(
            status=_Status.PENDING, progress=0, error="", updated_at=timezone.now()
        )
        for document_id in ids:
            _ingestion_enqueue(document_id)
    return len(ids)


def knowledge_document_update(*, document: KnowledgeDocument, title: str) -> KnowledgeDocument:
    """Rename a document; its vectors carry the title as their source, so it is ingested again."""
    title = title.strip()[:200]
    if not title:
        raise ApplicationError("invalid", "A document needs a title.", fields={"title": ["Required."]})
    # Compared with the stored title: an admin form has already set the new one on `document`.
    stored = KnowledgeDocument.objects.filter(pk=document.pk).values_list("title", flat=True).first()
    if title == stored:
        return document
    with transaction.atomic():
        document.title = title
        document.status = _Status.PENDING
        document.progress = 0
        document.error = ""
        document.save(update_fields=["title", "status", "progress", "error", "updated_at"])
        _ingestion_enqueue(document.pk)
    return document


@dataclass(frozen=True, slots=True)
class DocumentLoad:
    """The outcome of loading one file synchronously: `ready`, `unchanged` or `failed`."""

    outcome: Literal["ready", "unchanged", "failed"]
    document: KnowledgeDocument | None = None
    error: str = ""
    code: str = ""


def knowledge_document_load(
    *,
    chatbot: ChatbotSettings,
    flow: str,
    uploaded_file: File,
    title: str = "",
    skip_unchanged: bool = False,
    progress: Progress | None = None,
) -> DocumentLoad:
    """Store and ingest one file in this process, without the task queue (commands, demo data).

    With `skip_unchanged`, a document that is ready with the same content, title, index and
    embedding model is left alone. Never raises for a refused file or a failed ingestion: the
    outcome says what happened.
    """
    if skip_unchanged:
        unchanged = _unchanged_document(chatbot=chatbot, flow=flow, uploaded_file=uploaded_file, title=title)
        if unchanged is not None:
            return DocumentLoad("unchanged", unchanged)
    try:
        document = knowledge_document_create(
            chatbot=chatbot, flow=flow, uploaded_file=uploaded_file, title=title, enqueue=False
        )
    except ApplicationError as exc:
        return DocumentLoad("failed", error=exc.message, code=exc.code)
    try:
        document = knowledge_document_ingest(document_id=document.pk, progress=progress)
    except (VectorStoreError, ProviderError) as exc:
        # Transient, and there is no task to retry it; the document says it failed.
        document.refresh_from_db()
        return DocumentLoad("failed", document, document.error, exc.code)
    if document.status != _Status.READY:
        return DocumentLoad("failed", document, document.error)
    return DocumentLoad("ready", document)


def _unchanged_document(
    *, chatbot: ChatbotSettings, flow: str, uploaded_file: File, title: str
) -> KnowledgeDocument | None:
    try:
        source_name = _source_name(uploaded_file.name or "")
        document_size_check(name=source_name, size=uploaded_file.size or 0)
        index_name = flow_index_name(chatbot, flow)
    except ApplicationError:
        return None  # the full path reports it
    uploaded_file.seek(0)
    digest = hashlib.sha256(uploaded_file.read()).hexdigest()
    uploaded_file.seek(0)
    document = KnowledgeDocument.objects.filter(
        chatbot=chatbot,
        flow=flow,
        source_name=source_name,
        sha256=digest,
        status=_Status.READY,
        indexed_in=index_name,
        embedding_model=embedding_model_name(embedder_for(flow_layout(chatbot, flow).embedding_model)),
    ).first()
    if document is None or (title.strip() and document.title != title.strip()[:200]):
        return None
    return document


# --- deletion ----------------------------------------------------------------------------------


def knowledge_document_delete(*, document: KnowledgeDocument) -> None:
    """Delete a document's vectors, then its row and file.

    When the vector store cannot delete the vectors the document is kept (so deleting can be
    tried again) and an `ApplicationError` with the store's error code says why.
    """
    ids = document_vector_ids(document.pk, 0, max(document.indexed_chunks, document.chunk_count))
    if ids:
        for store in _document_stores(document):
            try:
                vectors_delete(store, ids)
            except VectorStoreError as exc:
                raise ApplicationError(
                    exc.code,
                    f'The vectors of "{document.title}" could not be deleted, so the document was kept: '
                    f"{exc.message}",
                    status_code=status.HTTP_502_BAD_GATEWAY
                    if exc.permanent
                    else status.HTTP_503_SERVICE_UNAVAILABLE,
                ) from exc
    storage = document.file.storage
    file_name = document.file.name or ""
    with transaction.atomic():
        KnowledgeDocument.objects.filter(pk=document.pk).delete()
        if file_name:
            transaction.on_commit(lambda: _file_delete(storage, file_name))


def _document_stores(document: KnowledgeDocument) -> list[VectorStore]:
    """The stores that may hold the document's vectors: where it was indexed and its flow's now."""
    stores: list[VectorStore] = []
    previous = document_previous_store(document=document)
    if previous is not None:
        stores.append(previous)
    try:
        current = flow_index_name(document.chatbot, document.flow)
    except ApplicationError:
        return stores
    if current != document.indexed_in:
        layout = flow_layout(document.chatbot, document.flow)
        stores.append(
            vector_store_for(chatbot=document.chatbot, index_name=current, namespace=layout.namespace)
        )
    return stores
