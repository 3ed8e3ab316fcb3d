"""Writes of a learner's documents: the upload, and the worker's processing into passages.

An upload is checked whole before anything is written (one bad file refuses the request), then
stored in one transaction; a file already in the session (same sha256) is reported as a
duplicate and not stored or processed again. Processing reads the file in a limited child
process, cuts it into passages and stores them all at once with the document marked `ready`, so
a failed document never has passages; the embedding queue picks the passages up from there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from chatplatform.documents.chunking import ChunkingConfig, text_chunk
from chatplatform.errors import ApplicationError
from tutor.documents.language import language_detect
from tutor.documents.pages import chunk_pages
from tutor.documents.reading import document_read
from tutor.documents.uploads import (
    CheckedFile,
    file_count_check,
    tutor_limits,
    uploaded_file_check,
)
from tutor.models import Chunk, Document, StudySession
from tutor.services import log_interaction

logger = logging.getLogger(__name__)

DOCUMENT_PROCESS_KIND = "tutor_document_process"
DOCUMENT_PROCESSING_FAILED = "document_processing_failed"
SESSION_ARCHIVED = "session_archived"

Progress = Callable[[int, str], None]


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file as the API received it (multipart or base64), not yet checked."""

    filename: str
    data: bytes
    declared_type: str = ""


@dataclass(frozen=True, slots=True)
class UploadResult:
    document: Document
    duplicate: bool


def documents_upload(
    *, session: StudySession, files: list[IncomingFile], enqueue: bool = True
) -> list[UploadResult]:
    """Store the files of one request in the session and queue their processing.

    Raises ApplicationError (nothing stored) when any file is refused; the error names the file.
    """
    if session.archived_at is not None:
        raise ApplicationError(
            SESSION_ARCHIVED, "The session is archived; documents cannot be added.", status_code=409
        )
    file_count_check(len(files))
    checked = [
        uploaded_file_check(filename=f.filename, data=f.data, declared_type=f.declared_type) for f in files
    ]
    saved: list[str] = []
    try:
        with transaction.atomic():
            results = [_document_store(session, item, saved) for item in checked]
            for result in results:
                log_interaction(
                    session.learner,
                    "document_uploaded",
                    session=session,
                    document=result.document.pk,
                    document_kind=result.document.kind,
                    size_bytes=result.document.size_bytes,
                    duplicate=result.duplicate,
                )
            if enqueue:
                new = [r.document.pk for r in results if not r.duplicate]
                transaction.on_commit(lambda: [document_process_enqueue(pk) for pk in new])
    except BaseException:
        for name in saved:
            default_storage.delete(name)
        raise
    return results


def _document_store(session: StudySession, item: CheckedFile, saved: list[str]) -> UploadResult:
    existing = Document.objects.filter(session=session, checksum=item.checksum).first()
    if existing is not None:
        return UploadResult(existing, duplicate=True)
    document = Document(
        session=session,
        filename=item.filename,
        mime_type=item.mime_type,
        kind=item.kind,
        size_bytes=len(item.data),
        pages=item.pages,
        checksum=item.checksum,
    )
    document.file.save(f"{item.checksum[:16]}-{item.kind}", ContentFile(item.data), save=False)
    saved.append(document.file.name)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        # The same file arrived in a concurrent request a moment ago.
        existing = Document.objects.filter(session=session, checksum=item.checksum).first()
        if existing is None:
            raise
        saved.remove(document.file.name)
        default_storage.delete(document.file.name)
        return UploadResult(existing, duplicate=True)
    return UploadResult(document, duplicate=False)


def document_process_enqueue(document_id: int) -> None:
    from chatplatform.jobs.services import job_create

    job_create(
        DOCUMENT_PROCESS_KIND,
        {"document": document_id},
        idempotency_key=f"tutor-document:{document_id}",
    )


def document_process(
    *, document_id: int, progress: Progress | None = None, final_attempt: bool = True
) -> Document:
    """Read, chunk and store one document's passages (the body of the processing job).

    A refused file (ApplicationError) marks the document `failed` with its code. Any other error
    is raised so that the job is tried again; on the final attempt the document is failed too.
    """
    report = progress or (lambda percent, message: None)
    document = Document.objects.select_related("session").get(pk=document_id)
    if document.status in (Document.Status.READY, Document.Status.FAILED):
        return document  # processed already (a job delivered twice)
    _document_progress(document, Document.Status.PROCESSING, 5, started=True)
    report(5, "reading")
    try:
        read = document_read(
            path=default_storage.path(document.file.name), name=document.filename, limits=tutor_limits()
        )
        _document_progress(document, Document.Status.PROCESSING, 60)
        report(60, "cutting into passages")
        config = ChunkingConfig.from_settings()
        pieces = text_chunk(read.text, chunk_tokens=config.chunk_tokens, overlap_tokens=config.overlap_tokens)
        language = language_detect(read.text)
        pages = chunk_pages(read.text, read.page_starts, [piece.text for piece in pieces])
        report(80, "storing passages")
        with transaction.atomic():
            Chunk.objects.filter(document=document).delete()
            Chunk.objects.bulk_create(
                Chunk(document=document, session=document.session, position=n, text=piece.text, page=page)
                for n, (piece, page) in enumerate(zip(pieces, pages, strict=True))
            )
            Document.objects.filter(pk=document.pk).update(
                status=Document.Status.READY,
                progress=100,
                pages=read.pages if read.pages is not None else document.pages,
                language=language,
                error_code="",
                error_message="",
                finished_at=timezone.now(),
            )
    except ApplicationError as exc:
        _document_fail(document, exc.code, exc.message)
    except Exception:
        if final_attempt:
            logger.exception("Processing tutor document %s failed", document_id)
            _document_fail(document, DOCUMENT_PROCESSING_FAILED, "The document could not be processed.")
        raise
    else:
        _stored_file_delete(document)
        transaction.on_commit(_embedding_wake)
    report(100, "done")
    document.refresh_from_db()
    return document


def _document_progress(document: Document, status: str, progress: int, *, started: bool = False) -> None:
    fields = {"status": status, "progress": progress}
    if started:
        fields["started_at"] = timezone.now()
    Document.objects.filter(pk=document.pk).update(**fields)


def _document_fail(document: Document, code: str, message: str) -> None:
    with transaction.atomic():
        Chunk.objects.filter(document=document).delete()
        Document.objects.filter(pk=document.pk).update(
            status=Document.Status.FAILED,
            error_code=code,
            error_message=message[:500],
            finished_at=timezone.now(),
        )
    _stored_file_delete(document)


def _stored_file_delete(document: Document) -> None:
    name = document.file.name
    if name:
        default_storage.delete(name)
        Document.objects.filter(pk=document.pk).update(file="")


def _embedding_wake() -> None:
    """Start embedding the new passages now rather than at the next beat."""
    from tutor.embeddings.queue import embedding_queue_enqueue

    embedding_queue_enqueue()
