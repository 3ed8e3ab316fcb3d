"""The engagement score: weighted signals whose whole points sum to the score exactly."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django_celery_beat.models import PeriodicTask
from hypothesis import given, settings
from hypothesis import strategies as st

from chatplatform.jobs.registry import kind_get
from chatplatform.runtime_config.errors import ConfigError
from chatplatform.runtime_config.keys import key_get
from chatplatform.runtime_config.services import config_set
from tests.tutor.factories import StudySessionFactory, learner_client
from tests.tutor.learning_data import analysis_make, answers_for, quiz_make
from tutor.learning.config import ENGAGEMENT_KEY
from tutor.learning.engagement import (
    SIGNALS,
    EngagementFacts,
    EngagementWeights,
    apportion,
    engagement_score,
)
from tutor.learning.engagement_scores import engagement_current
from tutor.learning.models import EngagementScore

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
EQUAL = EngagementWeights(weights=dict.fromkeys(SIGNALS, 1.0))


def test_a_session_without_activity_scores_zero_with_every_signal_explained():
    result = engagement_score(EngagementFacts(), EQUAL, NOW)

    assert result.score == 0
    assert [c.signal for c in result.contributions] == list(SIGNALS)
    assert all(c.points == 0 for c in result.contributions)
    assert result.contributions[0].measured == "no attempts yet"


def test_full_signals_reach_one_hundred():
    facts = EngagementFacts(
        attempts=5,
        mean_attempt_score=1.0,
        summaries=3,
        latest_coverage=1.0,
        time_on_task_s=3600,
        last_activity_at=NOW,
    )

    result = engagement_score(facts, EQUAL, NOW)

    assert result.score == 100
    assert sum(c.points for c in result.contributions) == 100


def test_each_signal_contributes_its_weighted_share():
    weights = EngagementWeights(
        weights={
            "quiz_accuracy": 3,
            "attempts": 1,
            "summaries": 0,
            "concept_coverage": 0,
            "time_on_task": 0,
            "recency": 0,
        },
        target_attempts=4,
    )
    facts = EngagementFacts(attempts=2, mean_attempt_score=0.8)

    result = engagement_score(facts, weights, NOW)
    points = {c.signal: c.points for c in result.contributions}

    # 0.75 * 0.8 * 100 = 60 and 0.25 * 0.5 * 100 = 12.5 -> 72.5 rounds to 73
    assert result.score == 73
    assert points["quiz_accuracy"] + points["attempts"] == 73
    assert points["quiz_accuracy"] in (60, 61)
    assert {c.signal: c.weight for c in result.contributions}["quiz_accuracy"] == 0.75


def test_recency_halves_every_half_life():
    weights = EngagementWeights(
        weights={**dict.fromkeys(SIGNALS, 0.0), "recency": 1.0}, recency_half_life_days=7
    )

    fresh = engagement_score(EngagementFacts(last_activity_at=NOW), weights, NOW)
    week_old = engagement_score(EngagementFacts(last_activity_at=NOW - timedelta(days=7)), weights, NOW)
    month_old = engagement_score(EngagementFacts(last_activity_at=NOW - timedelta(days=28)), weights, NOW)

    assert (fresh.score, week_old.score, month_old.score) == (100, 50, 6)
    assert "7 days ago" in week_old.contributions[-1].measured


def test_largest_remainder_gives_leftover_points_to_the_largest_fractions():
    assert apportion({"a": 33.4, "b": 33.3, "c": 33.3}, 100) == {"a": 34, "b": 33, "c": 33}
    assert apportion({"a": 0.5, "b": 0.0}, 1) == {"a": 1, "b": 0}


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.floats(min_value=0, max_value=100), min_size=6, max_size=6).filter(
        lambda ws: sum(ws) > 0.01
    ),
    attempts=st.integers(min_value=0, max_value=20),
    mean=st.none() | st.floats(min_value=0, max_value=1),
    summaries=st.integers(min_value=0, max_value=10),
    coverage=st.none() | st.floats(min_value=0, max_value=1),
    minutes=st.floats(min_value=0, max_value=500),
    days_ago=st.none() | st.floats(min_value=0, max_value=400),
)
def test_the_contributions_always_sum_exactly_to_the_score(
    weights, attempts, mean, summaries, coverage, minutes, days_ago
):
    facts = EngagementFacts(
        attempts=attempts,
        mean_attempt_score=mean,
        summaries=summaries,
        latest_coverage=coverage,
        time_on_task_s=minutes * 60,
        last_activity_at=None if days_ago is None else NOW - timedelta(days=days_ago),
    )

    result = engagement_score(facts, EngagementWeights(weights=dict(zip(SIGNALS, weights, strict=True))), NOW)

    assert 0 <= result.score <= 100
    assert sum(c.points for c in result.contributions) == result.score
    assert all(c.points >= 0 for c in result.contributions)
    assert all(c.points == 0 for c in result.contributions if c.value == 0 or c.weight == 0)


# --- stored scores, the endpoints, the job -------------------------------------------------------


def analytics_url(session) -> str:
    return f"/api/v1/tutor/sessions/{session.pk}/analytics/"


def _attempt(client, quiz, *given, seconds=120):
    response = client.post(
        f"/api/v1/tutor/sessions/{quiz.session_id}/events/quiz-attempts/",
        {"quiz": quiz.pk, "answers": answers_for(quiz, *given), "time_taken_s": seconds},
        format="json",
    )
    assert response.status_code == 201, response.json()


@pytest.mark.django_db
def test_session_analytics_explain_the_engagement_score():
    quiz = quiz_make()
    session = quiz.session
    analysis_make(session)
    client = learner_client(session.learner)
    _attempt(client, quiz, "Chlorophyll", "false", "grana")
    client.post(
        f"/api/v1/tutor/sessions/{session.pk}/events/summaries/",
        {"text": "Chlorophyll absorbs light; the Calvin cycle makes sugar."},
        format="json",
    )

    data = client.get(analytics_url(session)).json()

    engagement = data["engagement"]
    assert sum(c["points"] for c in engagement["contributions"]) == engagement["score"]
    assert engagement["score"] > 0
    assert engagement["weights_version"] == 0
    by_signal = {c["signal"]: c for c in engagement["contributions"]}
    assert by_signal["quiz_accuracy"]["value"] == 1.0
    assert by_signal["attempts"]["measured"] == "1 attempt"
    assert by_signal["concept_coverage"]["value"] == pytest.approx(2 / 3, abs=1e-4)
    assert data["quizzes"]["attempts"] == 1
    assert data["quizzes"]["mean_score"] == 1.0
    assert data["summaries"]["missed_concepts"] == ["Stomata"]
    assert data["activity"]["events"] == {"quiz_attempted": 1, "summary_submitted": 1}


@pytest.mark.django_db
def test_a_score_is_recomputed_when_read_after_new_activity_or_a_quarter_of_an_hour():
    quiz = quiz_make()
    session = quiz.session
    client = learner_client(session.learner)
    first = client.get(analytics_url(session)).json()["engagement"]

    _attempt(client, quiz, "Chlorophyll", "false", "grana")
    second = client.get(analytics_url(session)).json()["engagement"]

    assert first["score"] == 0
    assert second["score"] > 0
    assert second["computed_at"] > first["computed_at"]
    row = EngagementScore.objects.get(session=session)
    assert (
        engagement_current(session, now=row.computed_at + timedelta(minutes=5)).computed_at == row.computed_at
    )
    later = row.computed_at + timedelta(minutes=16)
    assert engagement_current(session, now=later).computed_at == later


@pytest.mark.django_db
def test_refresh_computes_now_with_the_weights_of_the_runtime_config():
    quiz = quiz_make()
    session = quiz.session
    client = learner_client(session.learner)
    _attempt(client, quiz, "Chlorophyll", "false", "grana")
    version = config_set(
        ENGAGEMENT_KEY,
        {
            "weights": {**dict.fromkeys(SIGNALS, 0), "quiz_accuracy": 1},
            "targets": {
                "attempts": 3,
                "summaries": 2,
                "time_on_task_minutes": 30,
                "recency_half_life_days": 7,
            },
        },
        author=None,
        reason="Only accuracy counts.",
    )

    data = client.post(f"{analytics_url(session)}refresh/").json()["engagement"]

    assert data["score"] == 100
    assert data["weights_version"] == version.number
    assert [c["points"] for c in data["contributions"]] == [100, 0, 0, 0, 0, 0]


def test_the_weights_key_refuses_missing_signals_and_all_zero_weights():
    key = key_get(ENGAGEMENT_KEY)
    targets = key.default["targets"]

    with pytest.raises(ConfigError):
        key.validate({"weights": {"quiz_accuracy": 1}, "targets": targets})
    with pytest.raises(ConfigError):
        key.validate({"weights": dict.fromkeys(SIGNALS, 0), "targets": targets})


@pytest.mark.django_db
def test_a_learner_sees_figures_across_their_sessions():
    quiz = quiz_make()
    other = quiz_make(session=StudySessionFactory(learner=quiz.session.learner))
    quiz_make()  # someone else's
    client = learner_client(quiz.session.learner)
    _attempt(client, quiz, "Chlorophyll", "false", "grana")
    _attempt(client, other, "Glucose", "true", "stroma")

    data = client.get("/api/v1/tutor/me/analytics/").json()

    assert data["sessions"] == 2
    assert data["quizzes"]["attempts"] == 2
    assert data["quizzes"]["mean_score"] == 0.5
    assert {row["id"] for row in data["per_session"]} == {quiz.session_id, other.session_id}
    assert data["mean_engagement"] == sum(row["engagement"] for row in data["per_session"]) / 2


@pytest.mark.django_db
def test_the_beat_job_recomputes_sessions_with_new_activity_every_quarter_of_an_hour():
    task = PeriodicTask.objects.get(name="Tutor engagement scores")
    assert task.task == "chatplatform.jobs.tasks.enqueue_kind"
    assert json.loads(task.kwargs) == {"kind": "tutor_engagement"}
    assert (task.interval.every, task.interval.period) == (15, "minutes")

    quiz = quiz_make()
    idle = StudySessionFactory()  # no activity: nothing to score
    _attempt(learner_client(quiz.session.learner), quiz, "Chlorophyll", "false", "grana")
    kind = kind_get("tutor_engagement")

    first = kind.run(_Context(), kind.payload_validate({}))
    again = kind.run(_Context(), kind.payload_validate({}))
    one = kind.run(_Context(), kind.payload_validate({"session": quiz.session_id}))

    assert first == {"sessions": 1}
    assert again == {"sessions": 0}  # nothing new since
    assert one["sessions"] == 1
    assert EngagementScore.objects.filter(session=quiz.session).exists()
    assert not EngagementScore.objects.filter(session=idle).exists()


class _Context:
    job_id, attempt = 1, 1

    def progress(self, percent, message=""):
        pass
