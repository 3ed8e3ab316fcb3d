"""Learner summaries: which key concepts they cover, and what the session keeps of it."""

import pytest

from tests.tutor.factories import StudySessionFactory, learner_client
from tests.tutor.learning_data import analysis_make
from tutor.learning.concept_coverage import KeyConcept, concept_coverage, normalised_words, stem
from tutor.learning.models import LearnerSummary
from tutor.models import InteractionLog

CONCEPTS = [
    KeyConcept("Chlorophyll", "The green pigment that absorbs light energy in plants."),
    KeyConcept("Calvin cycle", "Reactions that fix carbon dioxide into sugar using ATP and NADPH."),
    KeyConcept("Stomata", "Small pores in leaves through which gases are exchanged."),
    KeyConcept(
        "Light-dependent reactions", "Reactions in the thylakoid membranes that produce ATP and NADPH."
    ),
]


def test_word_forms_share_one_stem():
    assert len({stem(word) for word in ("produce", "produces", "produced", "producing")}) == 1
    assert stem("reactions") == stem("reaction")
    assert stem("pores") == stem("pore")
    assert stem("process") == "process"
    assert stem("analysis") == "analysis"
    assert normalised_words("The Stomata of Leaves, naïvely") == ["stomata", "leav", "naiv"]


def test_a_concept_is_covered_by_its_term_or_by_most_of_its_definition():
    summary = (
        "Plants capture light with chlorophyll. In the thylakoid membrane, reactions make ATP and NADPH, "
        "which are then used to fix carbon dioxide into sugars."
    )

    coverage = concept_coverage(summary, CONCEPTS)
    matches = {match.term: match for match in coverage.matches}

    assert matches["Chlorophyll"].via == "term"
    assert matches["Calvin cycle"].via == "definition"
    assert matches["Calvin cycle"].definition_overlap >= 0.6
    assert matches["Light-dependent reactions"].via == "definition"
    assert coverage.covered == ["Chlorophyll", "Calvin cycle", "Light-dependent reactions"]
    assert coverage.missed == ["Stomata"]
    assert coverage.share == 0.75


def test_part_of_a_term_with_little_of_its_definition_is_missed():
    coverage = concept_coverage("Light falls on the leaf and reactions start.", CONCEPTS)
    [match] = [match for match in coverage.matches if match.term == "Light-dependent reactions"]

    assert match.covered is False
    assert match.term_overlap == 0.6667


def test_a_term_written_in_another_form_still_counts():
    coverage = concept_coverage("Light dependent reaction happens first.", CONCEPTS)

    assert coverage.covered == ["Light-dependent reactions"]


def test_no_concepts_means_no_share():
    assert concept_coverage("anything", []).share is None
    assert concept_coverage("", CONCEPTS).covered == []


# --- the endpoint --------------------------------------------------------------------------------


SUMMARY = "Chlorophyll captures light, and then carbon dioxide is fixed into sugar with ATP and NADPH."


def summaries_url(session) -> str:
    return f"/api/v1/tutor/sessions/{session.pk}/events/summaries/"


@pytest.mark.django_db
def test_a_summary_shows_what_it_covered_and_the_session_keeps_what_it_missed():
    session = StudySessionFactory(context={"other_note": 1})
    analysis_make(session)
    client = learner_client(session.learner)

    response = client.post(summaries_url(session), {"text": SUMMARY}, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["covered"] == ["Chlorophyll", "Calvin cycle"]
    assert data["missed"] == ["Stomata"]
    assert data["coverage"] == pytest.approx(2 / 3, abs=1e-4)
    assert {match["term"]: match["via"] for match in data["matches"]}["Calvin cycle"] == "definition"
    session.refresh_from_db()
    assert session.context == {"other_note": 1, "missed_concepts": ["Stomata"]}
    log = InteractionLog.objects.get(kind="summary_submitted")
    assert log.data["missed"] == ["Stomata"]
    assert SUMMARY not in str(log.data)
    assert client.get(summaries_url(session)).json()["results"][0]["id"] == data["id"]


@pytest.mark.django_db
def test_the_latest_analysis_is_the_one_compared_with():
    session = StudySessionFactory()
    analysis_make(session)
    analysis_make(session, concepts=[("Stomata", "Small pores in leaves through which gases are exchanged.")])

    data = (
        learner_client(session.learner).post(summaries_url(session), {"text": SUMMARY}, format="json").json()
    )

    assert (data["covered"], data["missed"]) == ([], ["Stomata"])


@pytest.mark.django_db
def test_a_summary_before_any_analysis_is_refused():
    session = StudySessionFactory()

    response = learner_client(session.learner).post(summaries_url(session), {"text": SUMMARY}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "analysis_not_ready"
    assert not LearnerSummary.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["too short", "", None])
def test_a_summary_must_have_some_substance(text):
    session = StudySessionFactory()
    analysis_make(session)

    response = learner_client(session.learner).post(summaries_url(session), {"text": text}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not LearnerSummary.objects.exists()
    session.refresh_from_db()
    assert "missed_concepts" not in session.context
