"""Classical item analysis of quiz questions from their attempts: the share answering correctly,
the point-biserial discrimination of the item against the attempt score, and how often each
wrong answer is chosen. Pure functions: the service feeds them rows and stores the result."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# The wrong free-text answers kept per question (multiple choice keeps every distractor).
TOP_WRONG_ANSWERS = 5
OTHER = "(other)"


@dataclass(frozen=True)
class ItemResponse:
    """One attempt's answer to the question, with that attempt's score (0-1)."""

    given: str
    correct: bool
    attempt_score: float


@dataclass(frozen=True)
class Thresholds:
    """Below `min_attempts` answers nothing is judged; the rest are the flagging limits."""

    min_attempts: int = 10
    p_correct_min: float = 0.2
    p_correct_max: float = 0.95
    discrimination_min: float = 0.1

    @classmethod
    def from_config(cls, value: dict) -> Thresholds:
        return cls(**{name: value[name] for name in cls.__dataclass_fields__ if name in value})


@dataclass(frozen=True)
class ItemStats:
    attempts: int
    p_correct: float | None
    # None when it cannot be computed: fewer than two answers, or no variance in either the
    # item (everyone right, or everyone wrong) or the attempt scores.
    discrimination: float | None
    distractor_counts: dict[str, int] = field(default_factory=dict)


def _normalised(text: str) -> str:
    return " ".join(str(text).casefold().split())


def point_biserial(correct: Sequence[bool], scores: Sequence[float]) -> float | None:
    """The correlation of a 0/1 item with the attempt scores: (M1 - M0) / s * sqrt(p q), with
    the population standard deviation s. None where the correlation is undefined."""
    n = len(correct)
    if n != len(scores):
        raise ValueError("correct and scores must have the same length")
    if n < 2:
        return None
    right = [score for ok, score in zip(correct, scores, strict=True) if ok]
    wrong = [score for ok, score in zip(correct, scores, strict=True) if not ok]
    if not right or not wrong:
        return None
    mean = math.fsum(scores) / n
    variance = math.fsum((score - mean) ** 2 for score in scores) / n
    # Scores that differ only by rounding noise have no variance to correlate with.
    if variance <= 1e-12:
        return None
    p = len(right) / n
    difference = math.fsum(right) / len(right) - math.fsum(wrong) / len(wrong)
    r = difference / math.sqrt(variance) * math.sqrt(p * (1 - p))
    return max(-1.0, min(1.0, r))


def distractor_counts(
    given: Iterable[str], *, correct: Iterable[bool], options: Sequence[str] | None = None
) -> dict[str, int]:
    """Multiple choice: every wrong option with how often it was chosen (0 included, so that a
    distractor nobody picks shows), plus `(other)` for answers matching no option. Otherwise the
    most frequent wrong answers, normalised."""
    wrong = [_normalised(text) for text, ok in zip(given, correct, strict=True) if not ok]
    counts = Counter(wrong)
    if options:
        result: dict[str, int] = {}
        matched: set[str] = set()
        for option in options:
            key = _normalised(option)
            if key in matched:
                continue
            matched.add(key)
            result[option] = counts.get(key, 0)
        # The correct option is never wrong, so it stays at 0 here: leave it out.
        other = sum(count for key, count in counts.items() if key not in matched)
        if other:
            result[OTHER] = other
        return result
    return dict(counts.most_common(TOP_WRONG_ANSWERS))


def item_stats(
    responses: Sequence[ItemResponse], *, options: Sequence[str] | None = None, answer: str | None = None
) -> ItemStats:
    """The statistics of one question from every answer given to it."""
    n = len(responses)
    if n == 0:
        return ItemStats(attempts=0, p_correct=None, discrimination=None, distractor_counts={})
    correct = [response.correct for response in responses]
    p_correct = sum(correct) / n
    discrimination = point_biserial(correct, [response.attempt_score for response in responses])
    distractor_options = None
    if options:
        key = _normalised(answer) if answer is not None else None
        distractor_options = [option for option in options if _normalised(option) != key]
    counts = distractor_counts(
        [response.given for response in responses], correct=correct, options=distractor_options
    )
    return ItemStats(
        attempts=n,
        p_correct=round(p_correct, 4),
        discrimination=None if discrimination is None else round(discrimination, 4),
        distractor_counts=counts,
    )


@dataclass(frozen=True)
class Flag:
    code: str  # too_hard, too_easy, low_discrimination
    message: str


def item_flags(stats: ItemStats, thresholds: Thresholds) -> list[Flag]:
    """Why the question fails the thresholds (empty: it passes, or too few answers to judge)."""
    if stats.attempts < thresholds.min_attempts or stats.p_correct is None:
        return []
    flags = []
    if stats.p_correct < thresholds.p_correct_min:
        flags.append(
            Flag(
                "too_hard",
                f"Answered correctly by {stats.p_correct:.0%} (below {thresholds.p_correct_min:.0%}): "
                "too hard, or the answer key is wrong.",
            )
        )
    if stats.p_correct > thresholds.p_correct_max:
        flags.append(
            Flag(
                "too_easy",
                f"Answered correctly by {stats.p_correct:.0%} (above {thresholds.p_correct_max:.0%}).",
            )
        )
    if stats.discrimination is not None and stats.discrimination < thresholds.discrimination_min:
        flags.append(
            Flag(
                "low_discrimination",
                f"Discrimination {stats.discrimination:.2f} (below {thresholds.discrimination_min:.2f}): "
                "strong and weak learners answer it alike.",
            )
        )
    return flags
