"""Reads of the tutor's core records, always through the learner who owns them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from tutor.models import Chunk, Document, StudySession


def sessions_for_learner(user: AbstractBaseUser, *, archived: bool | None = False) -> QuerySet:
    """The learner's sessions, newest first; `archived=None` includes archived ones."""
    sessions = StudySession.objects.filter(learner=user)
    if archived is True:
        sessions = sessions.filter(archived_at__isnull=False)
    elif archived is False:
        sessions = sessions.filter(archived_at__isnull=True)
    return sessions_with_progress(sessions)


def sessions_with_progress(sessions: QuerySet) -> QuerySet:
    """Annotate the document and embedding counts each session response shows (one subquery
    each, so that documents and passages are not joined into one another)."""
    documents = Document.objects.filter(session=OuterRef("pk"))
    chunks = Chunk.objects.filter(session=OuterRef("pk"))
    return sessions.annotate(
        documents_total=_count(documents),
        documents_ready=_count(documents.filter(status=Document.Status.READY)),
        chunks_total=_count(chunks),
        chunks_embedded=_count(chunks.filter(embedding_status=Chunk.EmbeddingStatus.COMPLETED)),
    )


def _count(rows: QuerySet) -> Coalesce:
    counted = rows.order_by().values("session").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def session_for_learner(user: AbstractBaseUser, session_id: int) -> StudySession:
    """The learner's session (archived ones too); another learner's id is a 404 like a missing one."""
    try:
        session_id = int(session_id)
    except (TypeError, ValueError):
        raise Http404("No such session.") from None
    session = sessions_with_progress(StudySession.objects.filter(learner=user, pk=session_id)).first()
    if session is None:
        raise Http404("No such session.")
    return session


def document_for_learner(user: AbstractBaseUser, session_id: int, document_id: int) -> Document:
    document = (
        Document.objects.filter(session__learner=user, session_id=session_id, pk=document_id)
        .select_related("session")
        .first()
    )
    if document is None:
        raise Http404("No such document.")
    return document


def session_chunks(session: StudySession) -> QuerySet:
    """The passages of the session's ready documents, in reading order."""
    return (
        Chunk.objects.filter(session=session, document__status=Document.Status.READY)
        .select_related("document")
        .order_by("document__created_at", "document_id", "position")
    )
