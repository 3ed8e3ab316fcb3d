"""Study sessions: create, list (paged), read, change title and goal, archive; each shows progress."""

import pytest

from tests.tutor.factories import (
    ChunkFactory,
    DocumentFactory,
    LearnerFactory,
    StudySessionFactory,
    learner_client,
)
from tutor.models import Chunk, InteractionLog

pytestmark = pytest.mark.django_db


def test_a_learner_creates_a_session_and_the_log_records_it():
    learner = LearnerFactory()
    response = learner_client(learner).post(
        "/api/v1/tutor/sessions/", {"title": "Cell biology", "goal": "Pass the exam"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["goal"], body["archived_at"]) == ("Cell biology", "Pass the exam", None)
    assert body["progress"] == {
        "documents": 0,
        "documents_ready": 0,
        "chunks": 0,
        "chunks_embedded": 0,
        "percent_embedded": 100,
    }
    assert InteractionLog.objects.get().kind == "session_created"


def test_a_session_without_a_title_is_invalid():
    response = learner_client(LearnerFactory()).post("/api/v1/tutor/sessions/", {}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()["error"]["fields"]


def test_the_list_is_paged_and_leaves_archived_sessions_out_by_default():
    learner = LearnerFactory()
    StudySessionFactory.create_batch(3, learner=learner)
    archived = StudySessionFactory(learner=learner)
    client = learner_client(learner)
    client.post(f"/api/v1/tutor/sessions/{archived.pk}/archive/")
    page = client.get("/api/v1/tutor/sessions/", {"limit": 2}).json()
    assert (page["count"], len(page["results"])) == (3, 2)
    assert page["next"]
    assert client.get("/api/v1/tutor/sessions/", {"archived": "true"}).json()["count"] == 1
    assert client.get("/api/v1/tutor/sessions/", {"archived": "all"}).json()["count"] == 4


def test_patch_changes_only_title_and_goal():
    session = StudySessionFactory(title="Old", goal="Old goal")
    client = learner_client(session.learner)
    response = client.patch(
        f"/api/v1/tutor/sessions/{session.pk}/", {"title": "New", "archived_at": None}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["goal"]) == ("New", "Old goal")


def test_archiving_is_idempotent_and_keeps_the_session_readable():
    session = StudySessionFactory()
    client = learner_client(session.learner)
    first = client.post(f"/api/v1/tutor/sessions/{session.pk}/archive/").json()["archived_at"]
    second = client.post(f"/api/v1/tutor/sessions/{session.pk}/archive/").json()["archived_at"]
    assert first is not None
    assert first == second
    assert client.get(f"/api/v1/tutor/sessions/{session.pk}/").status_code == 200


def test_a_session_shows_how_many_passages_are_embedded():
    session = StudySessionFactory()
    document = DocumentFactory(session=session)
    ChunkFactory.create_batch(3, document=document, embedding_status=Chunk.EmbeddingStatus.COMPLETED)
    ChunkFactory(document=document)
    progress = learner_client(session.learner).get(f"/api/v1/tutor/sessions/{session.pk}/").json()["progress"]
    assert progress == {
        "documents": 1,
        "documents_ready": 1,
        "chunks": 4,
        "chunks_embedded": 3,
        "percent_embedded": 75,
    }
