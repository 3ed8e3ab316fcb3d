"""The quiz endpoint: parameters with stable codes, answers hidden until asked for, "N of M"
rather than padding, flagged questions left out, and one learner never reaching another's."""

import pytest

from tests.tutor.content_sources import session_with_sample, session_with_texts
from tests.tutor.factories import DocumentFactory, LearnerFactory, StudySessionFactory, learner_client
from tutor.content.models import Question, Quiz
from tutor.models import Document, InteractionLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.AI_PROVIDER = "local"


def url(session_id: int, part: str = "quiz") -> str:
    return f"/api/v1/tutor/sessions/{session_id}/{part}/"


@pytest.fixture
def session():
    return session_with_sample("statistics.md")


@pytest.fixture
def client(session):
    return learner_client(session.learner)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"num_questions": 0}, "invalid_num_questions"),
        ({"num_questions": 51}, "invalid_num_questions"),
        ({"num_questions": "ten"}, "invalid_num_questions"),
        ({"num_questions": True}, "invalid_num_questions"),
        ({"difficulty": "extreme"}, "invalid_difficulty"),
        ({"question_types": []}, "invalid_question_types"),
        ({"question_types": ["essay"]}, "invalid_question_types"),
        ({"question_types": ["true_false", "true_false"]}, "invalid_question_types"),
        ({"question_types": "true_false"}, None),
    ],
)
def test_it_refuses_bad_parameters_with_stable_codes(client, session, body, code):
    response = client.post(url(session.pk), body, format="json")

    if code is None:
        assert response.status_code == 201
        return
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert Quiz.objects.count() == 0


def test_it_needs_a_ready_document():
    session = StudySessionFactory()
    DocumentFactory(session=session, status=Document.Status.PROCESSING, progress=40)

    response = learner_client(session.learner).post(url(session.pk), {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_ready_documents"


def test_a_generated_quiz_hides_answers_until_asked_for(client, session):
    created = client.post(
        url(session.pk),
        {"num_questions": 6, "difficulty": "easy", "question_types": ["multiple_choice", "fill_in_blank"]},
        format="json",
    )

    assert created.status_code == 201
    quiz = created.json()
    assert (quiz["requested"], quiz["delivered"], quiz["difficulty"]) == (6, 6, "easy")
    assert {q["type"] for q in quiz["questions"]} == {"multiple_choice", "fill_in_blank"}
    assert all("answer" not in q and "quote" not in q for q in quiz["questions"])
    assert all(q["source"]["filename"] == "statistics.md" for q in quiz["questions"])

    review = client.get(url(session.pk), {"include_answers": "1"}).json()
    assert review["id"] == quiz["id"]
    assert review["answers_included"] is True
    assert all(q["answer"] and q["quote"] and q["explanation"] for q in review["questions"])
    choice = next(q for q in review["questions"] if q["type"] == "multiple_choice")
    assert choice["answer"] in choice["options"]
    assert len(choice["options"]) == 3
    kinds = list(InteractionLog.objects.filter(session=session).values_list("kind", flat=True))
    assert kinds.count("quiz_generated") == 1
    assert kinds.count("quiz_viewed") == 1


def test_it_delivers_fewer_questions_rather_than_padding():
    session = session_with_texts(
        ["Photosynthesis is the process by which green plants make sugar from light."]
    )

    response = learner_client(session.learner).post(url(session.pk), {"num_questions": 20}, format="json")

    quiz = response.json()
    assert response.status_code == 201
    assert 0 < quiz["delivered"] < 20 == quiz["requested"]
    assert quiz["message"].startswith(f"{quiz['delivered']} of 20 questions")
    assert len(quiz["questions"]) == quiz["delivered"]


def test_a_session_without_material_for_any_question_gets_a_clear_refusal():
    session = session_with_texts(["ok"])

    response = learner_client(session.learner).post(url(session.pk), {"num_questions": 5}, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "quiz_not_generated"
    assert Quiz.objects.count() == 0


def test_flagged_questions_are_left_out_of_new_quizzes(client, session):
    body = {"num_questions": 5, "question_types": ["short_answer"]}
    first = client.post(url(session.pk), body, format="json").json()
    flagged = Question.objects.get(pk=first["questions"][0]["id"])
    Question.objects.filter(pk=flagged.pk).update(flagged=True, flag_reason="low discrimination")

    second = client.post(url(session.pk), body, format="json").json()

    prompts = [q["prompt"] for q in second["questions"]]
    assert flagged.prompt not in prompts
    assert len(prompts) == 5


@pytest.mark.parametrize("part", ["analysis", "lesson", "quiz"])
def test_another_learners_session_answers_404_like_a_missing_one(session, part):
    stranger = learner_client(LearnerFactory())

    for response in (
        stranger.get(url(session.pk, part)),
        stranger.post(url(session.pk, part), {}, format="json"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert stranger.get(url(999999, part)).status_code == 404


@pytest.mark.parametrize("part", ["analysis", "lesson", "quiz"])
def test_it_needs_a_learner_token(session, part):
    from rest_framework.test import APIClient

    assert APIClient().get(url(session.pk, part)).status_code == 401


def test_nothing_generated_yet_is_a_404_with_its_own_code(client, session):
    for part in ("analysis", "lesson", "quiz"):
        response = client.get(url(session.pk, part))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == f"{part}_not_found"


def test_an_unknown_export_format_is_refused(client, session):
    client.post(url(session.pk), {"num_questions": 2}, format="json")

    response = client.get(url(session.pk), {"format": "pdf"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_format"


def test_a_quiz_leans_on_the_concepts_the_learner_missed():
    session = session_with_sample(
        "photosynthesis.txt", context={"missed_concepts": ["photolysis", "RuBisCO"]}
    )

    learner_client(session.learner).post(url(session.pk), {"num_questions": 4}, format="json")

    concepts = list(Question.objects.order_by("position").values_list("concept", flat=True))
    assert concepts[:2] == ["photolysis", "RuBisCO"]
