"""Quiz attempts: answers scored by the server, one quiz per attempt, nothing half-written."""

import pytest

from tests.tutor.factories import LearnerFactory, StudySessionFactory, learner_client
from tests.tutor.learning_data import answers_for, quiz_make
from tutor.learning.models import AttemptAnswer, ItemStatistic, QuizAttempt
from tutor.models import InteractionLog

pytestmark = pytest.mark.django_db


def url(session) -> str:
    return f"/api/v1/tutor/sessions/{session.pk}/events/quiz-attempts/"


@pytest.fixture
def quiz():
    return quiz_make()


@pytest.fixture
def client(quiz):
    return learner_client(quiz.session.learner)


def test_it_scores_the_answers_and_shows_each_explanation(client, quiz):
    body = {
        "quiz": quiz.pk,
        "answers": answers_for(quiz, " chlorophyll", "true", "Grana"),
        "time_taken_s": 42.5,
    }

    response = client.post(url(quiz.session), body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["correct"], data["total"], data["score"]) == (2, 3, 0.6667)
    assert data["time_taken_s"] == 42.5
    assert [answer["correct"] for answer in data["answers"]] == [True, False, True]
    assert data["answers"][1]["answer"] == "false"
    assert "splitting water" in data["answers"][1]["explanation"]
    attempt = QuizAttempt.objects.get()
    assert (attempt.learner, attempt.session) == (quiz.session.learner, quiz.session)


def test_a_question_left_out_counts_as_wrong(client, quiz):
    body = {"quiz": quiz.pk, "answers": answers_for(quiz, "Chlorophyll"), "time_taken_s": 5}

    data = client.post(url(quiz.session), body, format="json").json()

    assert (data["correct"], data["total"]) == (1, 3)
    assert [answer["given"] for answer in data["answers"]] == ["Chlorophyll", "", ""]


def test_a_true_false_answer_may_be_a_json_boolean(client, quiz):
    [_, tf, _] = quiz.questions.order_by("position")
    body = {"answers": [{"question": tf.pk, "given": False}], "time_taken_s": 3}

    data = client.post(url(quiz.session), body, format="json").json()

    assert data["quiz"] == quiz.pk  # the session's latest quiz by default
    assert data["answers"][1]["correct"] is True


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (
            lambda body, other: body["answers"].append({"question": other, "given": "x"}),
            400,
            "question_not_in_quiz",
        ),
        (lambda body, other: body["answers"].append(dict(body["answers"][0])), 400, "duplicate_answer"),
        (lambda body, other: body.update(time_taken_s=-1), 400, "invalid"),
        (lambda body, other: body.update(answers="all of them"), 400, "invalid"),
        (lambda body, other: body["answers"].append({"given": "no question"}), 400, "invalid"),
    ],
)
def test_bad_attempts_are_refused_and_leave_nothing_behind(client, quiz, change, status, code):
    other_question = quiz_make(session=StudySessionFactory(learner=quiz.session.learner)).questions.first()
    body = {"quiz": quiz.pk, "answers": answers_for(quiz, "Chlorophyll", "false"), "time_taken_s": 10}
    change(body, other_question.pk)

    response = client.post(url(quiz.session), body, format="json")

    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert not QuizAttempt.objects.exists()
    assert not AttemptAnswer.objects.exists()
    assert not InteractionLog.objects.filter(kind="quiz_attempted").exists()


def test_a_quiz_of_another_session_is_not_found(client, quiz):
    elsewhere = quiz_make(session=StudySessionFactory(learner=quiz.session.learner))

    response = client.post(
        url(quiz.session), {"quiz": elsewhere.pk, "answers": [], "time_taken_s": 1}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "quiz_not_found"


def test_an_attempt_is_logged_without_the_answers_text_and_updates_item_statistics(client, quiz):
    client.post(
        url(quiz.session),
        {"quiz": quiz.pk, "answers": answers_for(quiz, "Glucose", "false", "grana"), "time_taken_s": 9},
        format="json",
    )

    log = InteractionLog.objects.get(kind="quiz_attempted")
    assert log.session == quiz.session
    assert log.data["correct"] == 2
    assert "Glucose" not in str(log.data)
    first = ItemStatistic.objects.get(question__position=1, question__quiz=quiz)
    assert (first.attempts, first.p_correct, first.distractor_counts["Glucose"]) == (1, 0.0, 1)


def test_attempts_are_listed_newest_first_in_pages(client, quiz):
    for seconds in (1, 2, 3):
        client.post(url(quiz.session), {"answers": [], "time_taken_s": seconds}, format="json")

    first = client.get(url(quiz.session), {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [row["time_taken_s"] for row in first["results"]] == [3, 2]
    assert [row["time_taken_s"] for row in second["results"]] == [1]
    assert second["next"] is None


def test_another_learner_cannot_post_into_the_session(quiz):
    stranger = learner_client(LearnerFactory())

    response = stranger.post(url(quiz.session), {"answers": [], "time_taken_s": 1}, format="json")

    assert response.status_code == 404
    assert not QuizAttempt.objects.exists()
