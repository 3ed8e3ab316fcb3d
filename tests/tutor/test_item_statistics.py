"""Item statistics: share correct, point-biserial discrimination, distractor counts, flags."""

import numpy as np
import pytest

from tutor.learning.item_statistics import (
    OTHER,
    ItemResponse,
    ItemStats,
    Thresholds,
    item_flags,
    item_stats,
    point_biserial,
)


def test_point_biserial_equals_pearson_of_the_item_and_the_scores():
    correct = [True, True, False, True, False, False, True, True]
    scores = [0.9, 0.8, 0.3, 0.7, 0.4, 0.2, 0.5, 1.0]

    expected = np.corrcoef(np.array(correct, dtype=float), np.array(scores))[0, 1]

    assert point_biserial(correct, scores) == pytest.approx(expected, abs=1e-12)


def test_a_question_strong_learners_miss_has_negative_discrimination():
    correct = [False, False, True, True]
    scores = [1.0, 0.9, 0.2, 0.1]

    assert point_biserial(correct, scores) < -0.9


@pytest.mark.parametrize(
    ("correct", "scores"),
    [
        ([True, True, True], [0.2, 0.5, 0.9]),  # everyone right: the item has no variance
        ([False, False], [0.2, 0.9]),  # everyone wrong
        ([True, False, True], [0.5, 0.5, 0.5]),  # every attempt scored alike
        ([True], [1.0]),  # one answer
        ([], []),
    ],
)
def test_discrimination_is_undefined_without_variance(correct, scores):
    assert point_biserial(correct, scores) is None


def test_item_stats_count_each_distractor_including_unchosen_ones():
    responses = [
        ItemResponse("Chlorophyll", True, 1.0),
        ItemResponse("chlorophyll ", True, 0.8),
        ItemResponse("Glucose", False, 0.2),
        ItemResponse("glucose", False, 0.4),
        ItemResponse("Starch", False, 0.3),
        ItemResponse("no idea", False, 0.1),
    ]

    stats = item_stats(
        responses, options=["Chlorophyll", "Glucose", "Starch", "Oxygen"], answer="Chlorophyll"
    )

    assert stats.attempts == 6
    assert stats.p_correct == pytest.approx(2 / 6, abs=1e-4)
    assert stats.discrimination > 0.8
    assert stats.distractor_counts == {"Glucose": 2, "Starch": 1, "Oxygen": 0, OTHER: 1}


def test_free_text_questions_keep_the_most_frequent_wrong_answers():
    responses = [ItemResponse("Mitochondria", False, 0.3)] * 3 + [
        ItemResponse("nucleus", False, 0.2),
        ItemResponse("chloroplast", True, 0.9),
    ]

    stats = item_stats(responses)

    assert stats.distractor_counts == {"mitochondria": 3, "nucleus": 1}


def test_no_answers_give_empty_statistics():
    assert item_stats([]) == ItemStats(attempts=0, p_correct=None, discrimination=None, distractor_counts={})


def test_flags_wait_for_enough_attempts():
    hard = ItemStats(attempts=9, p_correct=0.0, discrimination=None)

    assert item_flags(hard, Thresholds(min_attempts=10)) == []


def test_flags_say_which_threshold_failed():
    thresholds = Thresholds(min_attempts=10, p_correct_min=0.2, p_correct_max=0.95, discrimination_min=0.1)

    hard = item_flags(ItemStats(attempts=12, p_correct=0.1, discrimination=0.3), thresholds)
    easy = item_flags(ItemStats(attempts=12, p_correct=1.0, discrimination=None), thresholds)
    flat = item_flags(ItemStats(attempts=12, p_correct=0.5, discrimination=-0.2), thresholds)
    good = item_flags(ItemStats(attempts=12, p_correct=0.6, discrimination=0.4), thresholds)

    assert [flag.code for flag in hard] == ["too_hard"]
    assert "10%" in hard[0].message
    assert [flag.code for flag in easy] == ["too_easy"]
    assert [flag.code for flag in flat] == ["low_discrimination"]
    assert good == []


def test_thresholds_come_from_the_runtime_config_value():
    thresholds = Thresholds.from_config({"min_attempts": 4, "p_correct_min": 0.3})

    assert thresholds == Thresholds(min_attempts=4, p_correct_min=0.3)
