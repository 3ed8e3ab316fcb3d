"""Factories of the tutor's core records, shared by the tests of every tutor part."""

import hashlib

import factory
from django.contrib.auth import get_user_model
from knox.models import AuthToken

from tutor.models import Chunk, Document, InteractionLog, StudySession

LEARNER_PASSWORD = "learner-pass-123"


class LearnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"learner{n}")
    password = factory.django.Password(LEARNER_PASSWORD)


class StudySessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudySession

    learner = factory.SubFactory(LearnerFactory)
    title = factory.Sequence(lambda n: f"Study session {n}")
    goal = "Understand the material."


class DocumentFactory(factory.django.DjangoModelFactory):
    """A ready document; pass `status` and `progress` for another state."""

    class Meta:
        model = Document

    session = factory.SubFactory(StudySessionFactory)
    filename = factory.Sequence(lambda n: f"notes-{n}.txt")
    mime_type = "text/plain"
    kind = Document.Kind.TXT
    size_bytes = 1000
    pages = None
    checksum = factory.Sequence(lambda n: hashlib.sha256(f"document {n}".encode()).hexdigest())
    language = "en"
    status = Document.Status.READY
    progress = 100


class ChunkFactory(factory.django.DjangoModelFactory):
    """A passage of a document; `session` follows the document's."""

    class Meta:
        model = Chunk

    document = factory.SubFactory(DocumentFactory)
    session = factory.LazyAttribute(lambda chunk: chunk.document.session)
    position = factory.Sequence(lambda n: n)
    text = "Photosynthesis converts light energy into chemical energy stored in glucose."
    embedding_status = Chunk.EmbeddingStatus.PENDING


class InteractionLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InteractionLog

    session = factory.SubFactory(StudySessionFactory)
    learner = factory.LazyAttribute(lambda log: log.session.learner)
    kind = "session_created"
    data = factory.LazyFunction(dict)


def learner_token(learner) -> str:
    """A fresh Bearer token of `learner`, as `POST /api/v1/auth/token/` would give."""
    _, token = AuthToken.objects.create(user=learner)
    return token


def learner_client(learner):
    """A DRF test client that sends the learner's Bearer token."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {learner_token(learner)}")
    return client
