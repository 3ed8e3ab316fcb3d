"""Content written by the openai provider (against the OpenAI-compatible test server): JSON
output with the shared re-ask, every item checked against its quoted source, and the local rules
when the provider fails."""

import json

import pytest

from chatplatform import telemetry
from tests.fakes.openai_server import FakeOpenAIServer
from tests.tutor.content_sources import session_with_texts
from tests.tutor.factories import learner_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("openai_settings")]

PASSAGES = [
    "The mean is the sum of the values divided by the number of values. The median is the middle value.",
    "The range is the largest value minus the smallest value. Outliers pull the mean away from the median.",
]


@pytest.fixture
def spans(settings):
    settings.TELEMETRY_ENABLED = True
    records: list[telemetry.CallRecord] = []
    unsubscribe = telemetry.subscribe(records.append)
    yield records
    unsubscribe()


def quiz_reply() -> str:
    return json.dumps(
        {
            "questions": [
                {
                    "type": "multiple_choice",
                    "prompt": "Which measure is the middle value?",
                    "options": ["mean", "median", "range"],
                    "answer": "B",
                    "explanation": "The median is the middle value.",
                    "source": "C1",
                    "quote": "The median is the middle value.",
                },
                {
                    "type": "short_answer",
                    "prompt": "What is the largest value minus the smallest value?",
                    "answer": "range",
                    "explanation": "By definition.",
                    "source": "C2",
                    "quote": "The range is the biggest value minus the least value.",
                },
                {
                    "type": "true_false",
                    "prompt": "Outliers pull the median away from the mean.",
                    "answer": False,
                    "explanation": "It is the mean that moves.",
                    "source": "[C2]",
                    "quote": "Outliers pull the mean away from the median.",
                    "evidence": "mean",
                },
                {
                    "type": "fill_in_blank",
                    "prompt": "The ___ is the sum of the values divided by the number of values.",
                    "answer": "mean",
                    "explanation": "The source says so.",
                    "source": "C1",
                    "quote": "The mean is the sum of the values divided by the number of values.",
                },
                {
                    "type": "multiple_choice",
                    "prompt": "Which is the sum divided by the count?",
                    "options": ["mean", "mean", "mode"],
                    "answer": "mean",
                    "explanation": "Duplicate options.",
                    "source": "C1",
                    "quote": "The mean is the sum of the values divided by the number of values.",
                },
            ]
        }
    )


def test_the_model_writes_the_quiz_and_only_grounded_questions_are_kept(
    openai_server: FakeOpenAIServer, spans
):
    session = session_with_texts(PASSAGES)
    openai_server.script("Here is your quiz!", quiz_reply())

    response = learner_client(session.learner).post(
        f"/api/v1/tutor/sessions/{session.pk}/quiz/", {"num_questions": 4}, format="json"
    )

    quiz = response.json()
    assert response.status_code == 201
    assert (quiz["provider"], quiz["model"]) == ("openai", "gpt-4o-mini")
    assert (quiz["requested"], quiz["delivered"]) == (4, 3)
    assert quiz["message"].startswith("3 of 4 questions")
    assert [q["type"] for q in quiz["questions"]] == ["multiple_choice", "true_false", "fill_in_blank"]
    first, second = openai_server.requests
    assert second.body["response_format"] == {"type": "json_object"}
    assert "invalid JSON" in second.body["messages"][-1]["content"]
    prompt = first.body["messages"][1]["content"]
    assert "[C1] The mean is the sum" in prompt
    assert "[C2] The range is" in prompt
    calls = [span for span in spans if span.operation == "json"]
    assert len(calls) == 2
    assert {(span.provider, span.feature, span.tenant_type) for span in calls} == {
        ("openai", "tutor_quiz", "learner")
    }
    assert {span.tenant_id for span in calls} == {str(session.learner.pk)}


def test_the_analysis_keeps_concepts_whose_quote_is_in_their_chunk(openai_server: FakeOpenAIServer):
    session = session_with_texts(PASSAGES, context={"missed_concepts": ["range"]})
    concepts = [
        {
            "term": "mean",
            "definition": "The average.",
            "source": "C1",
            "quote": "The mean is the sum of the values",
        },
        {
            "term": "mode",
            "definition": "Most frequent.",
            "source": "C1",
            "quote": "The mode is the most frequent value.",
        },
        {
            "term": "range",
            "definition": "Max minus min.",
            "source": "C9",
            "quote": "The range is the largest value",
        },
    ]
    openai_server.script(json.dumps({"summary": "Centre and spread.", "concepts": concepts}))

    analysis = learner_client(session.learner).post(f"/api/v1/tutor/sessions/{session.pk}/analysis/").json()

    assert analysis["provider"] == "openai"
    assert analysis["summary"] == "Centre and spread."
    assert [concept["term"] for concept in analysis["concepts"]] == ["mean"]
    assert (
        "missed these concepts last time; include them: range"
        in openai_server.requests[0].body["messages"][1]["content"]
    )


def test_a_failing_provider_leaves_the_lesson_to_the_local_rules(openai_server: FakeOpenAIServer):
    session = session_with_texts(PASSAGES)
    openai_server.script(status=503)

    response = learner_client(session.learner).post(f"/api/v1/tutor/sessions/{session.pk}/lesson/")

    assert response.status_code == 201
    assert response.json()["provider"] == "local"
    assert response.json()["sections"]


def test_a_long_session_sends_passages_from_all_over_it_and_those_with_missed_concepts():
    from tutor.content.drafts import SourceChunk
    from tutor.content.llm import sources_listing

    chunks = [SourceChunk(id=i, text=f"Passage {i} says something about topic {i}. " * 20) for i in range(40)]
    chunks[33] = SourceChunk(id=33, text="The stroma is the fluid around the thylakoids. " * 20)

    listing, labels = sources_listing(chunks, budget=2000, focus=["stroma"])

    ids = [chunk.id for chunk in labels.values()]
    assert 33 in ids
    assert ids == sorted(ids)
    assert max(ids) > 30
    assert len(ids) < 40
    assert listing.startswith("[C1] Passage 0 ")
