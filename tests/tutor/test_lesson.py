"""The lesson endpoint: sections with objectives, explanations and examples citing their chunks."""

import pytest

from tests.tutor.content_sources import session_with_sample
from tests.tutor.factories import learner_client
from tutor.models import InteractionLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.AI_PROVIDER = "local"


def test_a_lesson_follows_the_documents_sections_and_cites_them():
    session = session_with_sample("french-revolution.docx")
    client = learner_client(session.learner)
    url = f"/api/v1/tutor/sessions/{session.pk}/lesson/"

    created = client.post(url)
    lesson = client.get(url).json()

    assert created.status_code == 201
    assert lesson["title"] == "The French Revolution (1789-1799)"
    titles = [section["title"] for section in lesson["sections"]]
    assert titles[:3] == [
        "Causes",
        "The Estates-General and the National Assembly",
        "The storming of the Bastille",
    ]
    bastille = lesson["sections"][2]
    assert "Define Bastille in your own words." in bastille["objectives"]
    assert "stormed the Bastille" in bastille["explanation"]
    assert all(section["sources"] for section in lesson["sections"])
    assert {source["filename"] for section in lesson["sections"] for source in section["sources"]} == {
        "french-revolution.docx"
    }
    assert InteractionLog.objects.filter(session=session, kind="lesson_viewed").count() == 1


def test_examples_are_the_documents_own_instances():
    session = session_with_sample("statistics.md")

    lesson = learner_client(session.learner).post(f"/api/v1/tutor/sessions/{session.pk}/lesson/").json()

    centre = next(section for section in lesson["sections"] if section["title"] == "Measures of centre")
    assert "For the data set 2, 4, 4, 5, 10 the mean is 25 / 5 = 5." in centre["examples"]


def test_a_lesson_leans_on_the_concepts_the_learner_missed():
    session = session_with_sample("photosynthesis.pdf", context={"missed_concepts": ["stroma"]})

    lesson = learner_client(session.learner).post(f"/api/v1/tutor/sessions/{session.pk}/lesson/").json()

    assert lesson["focus"] == ["stroma"]
    objectives = [objective for section in lesson["sections"] for objective in section["objectives"]]
    assert "Revisit stroma, which your last summary left out." in objectives
