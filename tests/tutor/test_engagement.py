"""The engagement score: weighted signals whose whole points sum to the score exactly."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.learning.engagement import (
    SIGNALS,
    EngagementFacts,
    EngagementWeights,
    apportion,
    engagement_score,
)

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
