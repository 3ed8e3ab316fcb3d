"""Every learning endpoint: another learner's session is a 404, no token a 401."""

import pytest

from tests.tutor.factories import LearnerFactory, learner_client
from tests.tutor.learning_data import analysis_make, answers_for, quiz_make
from tutor.learning.models import LearnerSummary, QuizAttempt

pytestmark = pytest.mark.django_db

SESSION_ENDPOINTS = [
    ("get", "events/quiz-attempts/"),
    ("post", "events/quiz-attempts/"),
    ("get", "events/summaries/"),
    ("post", "events/summaries/"),
    ("get", "logs/"),
    ("get", "logs/?format=xapi"),
    ("get", "analytics/"),
    ("post", "analytics/refresh/"),
]


@pytest.fixture
def quiz():
    quiz = quiz_make()
    analysis_make(quiz.session)
    return quiz


def _body(quiz, path):
    if "quiz-attempts" in path:
        return {"quiz": quiz.pk, "answers": answers_for(quiz, "Chlorophyll"), "time_taken_s": 5}
    if "summaries" in path:
        return {"text": "Chlorophyll absorbs light and the Calvin cycle makes sugar."}
    return None


@pytest.mark.parametrize(("method", "path"), SESSION_ENDPOINTS)
def test_another_learners_session_answers_404(quiz, method, path):
    stranger = learner_client(LearnerFactory())

    response = getattr(stranger, method)(
        f"/api/v1/tutor/sessions/{quiz.session_id}/{path}", _body(quiz, path), format="json"
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not QuizAttempt.objects.exists()
    assert not LearnerSummary.objects.exists()


@pytest.mark.parametrize(("method", "path"), SESSION_ENDPOINTS)
def test_the_owner_gets_through(quiz, method, path):
    owner = learner_client(quiz.session.learner)

    response = getattr(owner, method)(
        f"/api/v1/tutor/sessions/{quiz.session_id}/{path}", _body(quiz, path), format="json"
    )

    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize(("method", "path"), [*SESSION_ENDPOINTS, ("get", "/api/v1/tutor/me/analytics/")])
def test_without_a_token_it_is_401(client, quiz, method, path):
    url = path if path.startswith("/") else f"/api/v1/tutor/sessions/{quiz.session_id}/{path}"

    response = getattr(client, method)(url, _body(quiz, path) or {}, content_type="application/json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_my_analytics_count_only_my_own_sessions(quiz):
    stranger = learner_client(LearnerFactory())

    data = stranger.get("/api/v1/tutor/me/analytics/").json()

    assert (data["sessions"], data["quizzes"]["attempts"], data["per_session"]) == (0, 0, [])
