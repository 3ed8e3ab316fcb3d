"""The engagement score of a study session: a weighted sum of signals, each in [0, 1], shown as
whole points out of 100 per signal. The points are apportioned by largest remainder, so that
they always add up to the score exactly, in any client's arithmetic."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

SIGNALS = ("quiz_accuracy", "attempts", "summaries", "concept_coverage", "time_on_task", "recency")
LABELS = {
    "quiz_accuracy": "Quiz accuracy",
    "attempts": "Quiz attempts",
    "summaries": "Summaries written",
    "concept_coverage": "Key concepts covered",
    "time_on_task": "Time on task",
    "recency": "Recent activity",
}
MAX_SCORE = 100


@dataclass(frozen=True)
class EngagementWeights:
    """Relative weights (normalised to sum to 1) and the targets that make a signal full."""

    weights: dict[str, float]
    target_attempts: int = 3
    target_summaries: int = 2
    target_minutes: float = 30.0
    recency_half_life_days: float = 7.0

    @classmethod
    def from_config(cls, value: dict) -> EngagementWeights:
        targets = value.get("targets", {})
        return cls(
            weights={name: float(value["weights"].get(name, 0.0)) for name in SIGNALS},
            target_attempts=targets.get("attempts", cls.target_attempts),
            target_summaries=targets.get("summaries", cls.target_summaries),
            target_minutes=targets.get("time_on_task_minutes", cls.target_minutes),
            recency_half_life_days=targets.get("recency_half_life_days", cls.recency_half_life_days),
        )

    def normalised(self) -> dict[str, float]:
        total = math.fsum(max(0.0, self.weights.get(name, 0.0)) for name in SIGNALS)
        if total <= 0:
            raise ValueError("At least one engagement weight must be above 0.")
        return {name: max(0.0, self.weights.get(name, 0.0)) / total for name in SIGNALS}


@dataclass(frozen=True)
class EngagementFacts:
    """What the learner did in the session, as the signals need it."""

    attempts: int = 0
    mean_attempt_score: float | None = None  # 0-1
    summaries: int = 0
    latest_coverage: float | None = None  # 0-1, the latest summary's share of concepts covered
    time_on_task_s: float = 0.0
    last_activity_at: datetime | None = None


@dataclass(frozen=True)
class Contribution:
    signal: str
    label: str
    measured: str  # the fact behind the value, for people
    value: float  # the signal, 0-1
    weight: float  # its normalised weight, 0-1
    points: int  # its whole points of the score

    def as_dict(self) -> dict:
        return {
            "signal": self.signal,
            "label": self.label,
            "measured": self.measured,
            "value": self.value,
            "weight": self.weight,
            "points": self.points,
        }


@dataclass(frozen=True)
class Engagement:
    score: int
    contributions: list[Contribution]


def _clamped(value: float) -> float:
    return max(0.0, min(1.0, value))


def signal_values(facts: EngagementFacts, weights: EngagementWeights, now: datetime) -> dict[str, float]:
    """Each signal in [0, 1]."""
    if facts.last_activity_at is None:
        recency = 0.0
    else:
        age_days = max(0.0, (now - facts.last_activity_at).total_seconds() / 86400)
        recency = 0.5 ** (age_days / weights.recency_half_life_days)
    return {
        "quiz_accuracy": _clamped(facts.mean_attempt_score or 0.0),
        "attempts": _clamped(facts.attempts / weights.target_attempts),
        "summaries": _clamped(facts.summaries / weights.target_summaries),
        "concept_coverage": _clamped(facts.latest_coverage or 0.0),
        "time_on_task": _clamped(facts.time_on_task_s / (weights.target_minutes * 60)),
        "recency": _clamped(recency),
    }


def _measured(facts: EngagementFacts, now: datetime) -> dict[str, str]:
    if facts.last_activity_at is None:
        recency = "no activity yet"
    else:
        hours = max(0.0, (now - facts.last_activity_at).total_seconds() / 3600)
        recency = (
            f"last activity {hours:.1f} h ago" if hours < 48 else f"last activity {hours / 24:.0f} days ago"
        )
    return {
        "quiz_accuracy": "no attempts yet"
        if facts.mean_attempt_score is None
        else f"mean attempt score {facts.mean_attempt_score:.0%}",
        "attempts": f"{facts.attempts} attempt{'s' * (facts.attempts != 1)}",
        "summaries": f"{facts.summaries} summar{'ies' if facts.summaries != 1 else 'y'}",
        "concept_coverage": "no summary yet"
        if facts.latest_coverage is None
        else f"latest summary covers {facts.latest_coverage:.0%} of the key concepts",
        "time_on_task": f"{facts.time_on_task_s / 60:.1f} min on quizzes",
        "recency": recency,
    }


def apportion(exact: dict[str, float], total: int) -> dict[str, int]:
    """Whole numbers summing to `total`: floors first, then one more to the largest remainders
    (ties in the order of `exact`)."""
    floors = {name: math.floor(value) for name, value in exact.items()}
    left = total - sum(floors.values())
    by_remainder = sorted(exact, key=lambda name: -(exact[name] - floors[name]))
    for name in by_remainder[: max(0, left)]:
        floors[name] += 1
    return floors


def engagement_score(facts: EngagementFacts, weights: EngagementWeights, now: datetime) -> Engagement:
    """The score (0-100) and each signal's contribution; the points sum to the score."""
    values = signal_values(facts, weights, now)
    shares = weights.normalised()
    exact = {name: values[name] * shares[name] * MAX_SCORE for name in SIGNALS}
    score = int(Decimal(repr(math.fsum(exact.values()))).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    score = max(0, min(MAX_SCORE, score))
    points = apportion(exact, score)
    measured = _measured(facts, now)
    contributions = [
        Contribution(
            signal=name,
            label=LABELS[name],
            measured=measured[name],
            value=round(values[name], 4),
            weight=round(shares[name], 4),
            points=points[name],
        )
        for name in SIGNALS
    ]
    return Engagement(score=score, contributions=contributions)
