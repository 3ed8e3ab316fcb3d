"""The analysis endpoint: a summary and key concepts, each linked to its chunk and quote."""

import pytest

from chatplatform import telemetry
from tests.tutor.content_sources import session_with_sample
from tests.tutor.factories import learner_client
from tutor.models import InteractionLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.AI_PROVIDER = "local"


@pytest.fixture
def spans(settings):
    settings.TELEMETRY_ENABLED = True
    records: list[telemetry.CallRecord] = []
    unsubscribe = telemetry.subscribe(records.append)
    yield records
    unsubscribe()


def test_it_generates_then_serves_the_latest_analysis(spans):
    session = session_with_sample("statistics.md")
    client = learner_client(session.learner)
    url = f"/api/v1/tutor/sessions/{session.pk}/analysis/"

    created = client.post(url)
    served = client.get(url)

    assert created.status_code == 201
    assert served.json() == created.json()
    analysis = served.json()
    assert analysis["provider"] == "local"
    assert "Descriptive statistics summarise a data set" in analysis["summary"]
    terms = {concept["term"]: concept for concept in analysis["concepts"]}
    assert {"mean", "median", "mode", "variance", "standard deviation"} <= set(terms)
    median = terms["median"]
    assert median["definition"] == "the middle value when the data are sorted"
    assert median["quote"] == "The median is the middle value when the data are sorted."
    assert median["source"]["filename"] == "statistics.md"
    assert terms["interquartile range"]["aliases"] == ["IQR"]
    kinds = set(InteractionLog.objects.filter(session=session).values_list("kind", flat=True))
    assert {"analysis_generated", "analysis_viewed"} <= kinds
    [span] = [span for span in spans if span.feature == "tutor_analysis"]
    assert (span.tenant_type, span.tenant_id, span.provider) == ("learner", str(session.learner.pk), "local")


def test_the_concepts_the_learner_missed_come_first():
    session = session_with_sample("photosynthesis.txt", context={"missed_concepts": ["photolysis", "stroma"]})

    analysis = learner_client(session.learner).post(f"/api/v1/tutor/sessions/{session.pk}/analysis/").json()

    assert [concept["term"] for concept in analysis["concepts"][:2]] == ["photolysis", "stroma"]
