"""xAPI statements built from the interaction log."""

import uuid
from datetime import UTC, datetime

import pytest

from tests.tutor.factories import InteractionLogFactory, learner_client
from tests.tutor.learning_data import answers_for, quiz_make
from tutor.learning.xapi import Event, iso_duration, statements_for
from tutor.models import InteractionLog

BASE = "https://tutor.example/"
AT = datetime(2026, 3, 2, 12, 30, 5, 250000, tzinfo=UTC)


def event(kind, **data):
    return Event(
        id=41, learner_id=7, kind=kind, created_at=AT, session_id=3, session_title="Biology", data=data
    )


def test_a_quiz_attempt_is_a_completed_assessment_with_one_answered_statement_per_question():
    statements = statements_for(
        event(
            "quiz_attempted",
            quiz=9,
            attempt=12,
            correct=1,
            total=2,
            time_taken_s=75.5,
            answers=[
                {"question": 100, "type": "multiple_choice", "given": "Chlorophyll", "correct": True},
                {"question": 101, "type": "true_false", "given": "false", "correct": False},
            ],
        ),
        BASE,
    )

    completed, first, second = statements
    assert completed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    assert completed["object"]["id"] == "https://tutor.example/tutor/sessions/3/quizzes/9"
    assert completed["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/assessment"
    assert completed["result"] == {
        "score": {"scaled": 0.5, "raw": 1, "min": 0, "max": 2},
        "completion": True,
        "duration": "PT1M15.5S",
    }
    assert (
        completed["context"]["contextActivities"]["parent"][0]["id"]
        == "https://tutor.example/tutor/sessions/3"
    )
    assert first["verb"]["id"] == "http://adlnet.gov/expapi/verbs/answered"
    assert first["object"]["definition"]["interactionType"] == "choice"
    assert first["result"] == {"success": True, "response": "Chlorophyll"}
    assert second["object"]["definition"]["interactionType"] == "true-false"
    assert second["context"]["contextActivities"]["parent"][0]["id"] == completed["object"]["id"]


def test_every_statement_has_actor_verb_object_timestamp_and_a_stable_id():
    [first] = statements_for(event("lesson_viewed", lesson=4), BASE)
    [again] = statements_for(event("lesson_viewed", lesson=4), BASE)

    assert first == again
    uuid.UUID(first["id"])
    assert first["actor"] == {"objectType": "Agent", "account": {"homePage": BASE, "name": "7"}}
    assert first["verb"] == {
        "id": "http://adlnet.gov/expapi/verbs/experienced",
        "display": {"en-US": "experienced"},
    }
    assert first["object"]["id"] == "https://tutor.example/tutor/sessions/3/lessons/4"
    assert first["timestamp"] == "2026-03-02T12:30:05.250Z"
    assert first["version"] == "1.0.3"


def test_a_summary_reports_its_concept_coverage_as_the_score():
    [statement] = statements_for(
        event(
            "summary_submitted",
            summary=5,
            covered=["chlorophyll", "glucose", "stomata"],
            missed=["calvin cycle"],
        ),
        BASE,
    )

    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/commented"
    assert statement["result"]["score"] == {"scaled": 0.75, "raw": 3, "min": 0, "max": 4}
    assert statement["result"]["extensions"]["https://tutor.example/xapi/extensions/missed-concepts"] == [
        "calvin cycle"
    ]


def test_each_kind_names_what_it_was_about():
    expected = {
        ("analysis_generated", "analysis"): ("launched", "analyses/8", "module"),
        ("quiz_viewed", "quiz"): ("experienced", "quizzes/8", "assessment"),
        ("document_uploaded", "document"): ("imported", "documents/8", "file"),
        ("session_archived", None): ("exited", "", "course"),
    }
    for (kind, key), (verb, path, activity_type) in expected.items():
        [statement] = statements_for(event(kind, **({key: 8} if key else {})), BASE)

        assert statement["verb"]["id"] == f"http://adlnet.gov/expapi/verbs/{verb}"
        assert statement["object"]["id"] == f"https://tutor.example/tutor/sessions/3/{path}".rstrip("/")
        assert statement["object"]["definition"]["type"].endswith(f"/activities/{activity_type}")


def test_unknown_kinds_become_interacted_with_the_kind_described():
    [statement] = statements_for(event("flashcards_flipped"), BASE)

    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/interacted"
    assert statement["object"]["id"] == "https://tutor.example/tutor/sessions/3"
    assert statement["object"]["definition"]["description"] == {"en-US": "flashcards_flipped"}
    assert "contextActivities" not in statement["context"]


def test_durations_are_iso_8601():
    assert iso_duration(0) == "PT0S"
    assert iso_duration(59) == "PT59S"
    assert iso_duration(3600) == "PT1H"
    assert iso_duration(3725.25) == "PT1H2M5.25S"


# --- the log endpoint ----------------------------------------------------------------------------


def logs_url(session) -> str:
    return f"/api/v1/tutor/sessions/{session.pk}/logs/"


@pytest.fixture
def logged():
    """A session with a quiz attempt and three more logged events at known times."""
    quiz = quiz_make()
    session = quiz.session
    client = learner_client(session.learner)
    response = client.post(
        f"/api/v1/tutor/sessions/{session.pk}/events/quiz-attempts/",
        {"quiz": quiz.pk, "answers": answers_for(quiz, "Chlorophyll", "true"), "time_taken_s": 61},
        format="json",
    )
    assert response.status_code == 201
    for kind, day in (("session_created", 1), ("lesson_viewed", 2), ("analysis_viewed", 3)):
        log = InteractionLogFactory(session=session, kind=kind)
        InteractionLog.objects.filter(pk=log.pk).update(created_at=datetime(2026, 1, day, 12, tzinfo=UTC))
    InteractionLogFactory(kind="lesson_viewed")  # another learner's
    return session, client


@pytest.mark.django_db
def test_the_log_is_paged_newest_first_and_filtered_by_kind_and_time(logged):
    session, client = logged

    everything = client.get(logs_url(session), {"page_size": 3}).json()
    rest = client.get(everything["next"]).json()
    lessons = client.get(logs_url(session), {"kind": "lesson_viewed,analysis_viewed"}).json()
    window = client.get(
        logs_url(session), {"since": "2026-01-02T12:00:00Z", "until": "2026-01-03T12:00:00Z"}
    ).json()

    kinds = [row["kind"] for row in everything["results"] + rest["results"]]
    assert kinds == ["quiz_attempted", "analysis_viewed", "lesson_viewed", "session_created"]
    assert rest["next"] is None
    assert [row["kind"] for row in lessons["results"]] == ["analysis_viewed", "lesson_viewed"]
    assert [row["kind"] for row in window["results"]] == ["lesson_viewed"]


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"since": "yesterday"}, {"kind": "Not A Kind"}])
def test_bad_filters_are_refused(logged, query):
    session, client = logged

    response = client.get(logs_url(session), query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.django_db
def test_the_log_exports_as_xapi_statements_with_the_attempts_answers(logged):
    session, client = logged

    response = client.get(logs_url(session), {"format": "xapi", "page_size": 2})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    completed, answered_mc, answered_tf, answered_blank, experienced = body["statements"]
    assert completed["verb"]["id"].endswith("/completed")
    assert completed["result"]["score"] == {"scaled": 0.3333, "raw": 1, "min": 0, "max": 3}
    assert completed["result"]["duration"] == "PT1M1S"
    assert completed["object"]["id"].startswith("http://testserver/tutor/sessions/")
    assert answered_mc["result"] == {"success": True, "response": "Chlorophyll"}
    assert answered_tf["result"]["success"] is False
    assert answered_blank["result"] == {"success": False, "response": ""}
    assert experienced["verb"]["id"].endswith("/experienced")
    assert {s["actor"]["account"]["name"] for s in body["statements"]} == {str(session.learner_id)}
    assert body["more"]
    more = client.get(body["more"]).json()
    assert [s["verb"]["display"]["en-US"] for s in more["statements"]] == ["experienced", "registered"]
    assert more["more"] == ""
