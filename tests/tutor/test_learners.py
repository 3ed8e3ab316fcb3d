"""Learner accounts from the command line, the demo learner, and learners kept apart: another
learner's ids answer 404 on every endpoint, exactly like ids that do not exist."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from tests.tutor.factories import (
    DocumentFactory,
    LearnerFactory,
    StudySessionFactory,
    learner_client,
)

pytestmark = pytest.mark.django_db


def test_create_learner_prints_a_generated_password_once_that_works(capsys):
    call_command("create_learner", "ada")
    out = capsys.readouterr().out
    password = out.split("with password: ")[1].split()[0]
    user = authenticate(username="ada", password=password)
    assert user is not None
    assert not user.is_staff


def test_create_learner_takes_a_password_and_refuses_an_existing_name(capsys):
    call_command("create_learner", "grace", password="a-long-pass-123")
    assert "a-long-pass-123" not in capsys.readouterr().out
    assert authenticate(username="grace", password="a-long-pass-123") is not None
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_learner", "grace")


def test_the_demo_learner_is_made_once_and_the_command_says_how_to_log_in(capsys):
    call_command("ensure_demo_learner")
    first = capsys.readouterr().out
    call_command("ensure_demo_learner")
    second = capsys.readouterr().out
    assert "with password:" in first
    assert "with password:" not in second
    assert "/api/v1/auth/token/" in second
    assert get_user_model().objects.filter(username="demo-learner").count() == 1


@pytest.fixture
def foreign():
    """A session and document of another learner."""
    document = DocumentFactory()
    return document.session, document


ENDPOINTS = [
    ("get", "/api/v1/tutor/sessions/{s}/"),
    ("patch", "/api/v1/tutor/sessions/{s}/"),
    ("post", "/api/v1/tutor/sessions/{s}/archive/"),
    ("get", "/api/v1/tutor/sessions/{s}/documents/"),
    ("post", "/api/v1/tutor/sessions/{s}/documents/"),
    ("get", "/api/v1/tutor/sessions/{s}/documents/{d}/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_another_learners_ids_answer_404_like_missing_ones(foreign, method, path):
    session, document = foreign
    client = learner_client(LearnerFactory())
    response = getattr(client, method)(
        path.format(s=session.pk, d=document.pk), {"title": "x"}, format="json"
    )
    missing = getattr(client, method)(path.format(s=999999, d=999999), {"title": "x"}, format="json")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    session.refresh_from_db()
    assert session.title != "x"
    assert session.archived_at is None


def test_a_document_is_found_only_under_its_own_session():
    learner = LearnerFactory()
    document = DocumentFactory(session=StudySessionFactory(learner=learner))
    other = StudySessionFactory(learner=learner)
    client = learner_client(learner)
    assert client.get(f"/api/v1/tutor/sessions/{other.pk}/documents/{document.pk}/").status_code == 404


def test_a_learner_lists_only_their_own_sessions():
    mine = StudySessionFactory()
    StudySessionFactory()
    results = learner_client(mine.learner).get("/api/v1/tutor/sessions/").json()["results"]
    assert [s["id"] for s in results] == [mine.pk]


@pytest.mark.parametrize(("method", "path"), [*ENDPOINTS, ("get", "/api/v1/tutor/sessions/")])
def test_anonymous_requests_answer_401(foreign, client, method, path):
    session, document = foreign
    response = getattr(client, method)(path.format(s=session.pk, d=document.pk))
    assert response.status_code == 401
