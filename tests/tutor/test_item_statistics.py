"""Item statistics: share correct, point-biserial discrimination, distractor counts, flags."""

import numpy as np
import pytest

from chatplatform.runtime_config.services import config_set
from tests.tutor.factories import learner_client
from tests.tutor.learning_data import answers_for, quiz_make
from tutor.content.models import Question
from tutor.learning.config import ITEM_THRESHOLDS_KEY
from tutor.learning.item_statistics import (
    OTHER,
    ItemResponse,
    ItemStats,
    Thresholds,
    item_flags,
    item_stats,
    point_biserial,
)
from tutor.learning.models import ItemStatistic


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


# --- stored statistics and flags -----------------------------------------------------------------


def _attempt(client, quiz, *given):
    response = client.post(
        f"/api/v1/tutor/sessions/{quiz.session_id}/events/quiz-attempts/",
        {"quiz": quiz.pk, "answers": answers_for(quiz, *given), "time_taken_s": 30},
        format="json",
    )
    assert response.status_code == 201, response.json()


@pytest.fixture
def thresholds():
    config_set(
        ITEM_THRESHOLDS_KEY,
        {"min_attempts": 4, "p_correct_min": 0.2, "p_correct_max": 0.95, "discrimination_min": 0.1},
        author=None,
        reason="Judge items after four answers in tests.",
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("thresholds")
def test_questions_failing_the_thresholds_are_flagged_and_unflagged_by_newer_answers(staff_client):
    quiz = quiz_make()
    client = learner_client(quiz.session.learner)
    mc, tf, blank = quiz.questions.order_by("position")
    for given in [
        ("Chlorophyll", "false", "grana"),
        ("Chlorophyll", "true", "grana"),
        ("Glucose", "true", "grana"),
        ("Starch", "true", "grana"),
    ]:
        _attempt(client, quiz, *given)

    stats = {row.question_id: row for row in ItemStatistic.objects.all()}
    assert stats[blank.pk].flagged is True
    assert stats[blank.pk].flag_codes == ["too_easy"]
    assert (stats[mc.pk].flagged, stats[tf.pk].flagged) == (False, False)
    assert stats[mc.pk].p_correct == 0.5
    assert stats[mc.pk].discrimination > 0.5
    assert stats[mc.pk].distractor_counts == {"Glucose": 1, "Starch": 1, "Oxygen": 0}
    blank.refresh_from_db()
    assert blank.flagged is True
    assert blank.flag_reason.startswith("Item statistics: Answered correctly by 100%")
    # Staff find them with the admin's filter.
    page = staff_client.get("/admin/tutor_learning/itemstatistic/", {"flagged__exact": "1"})
    assert page.status_code == 200
    assert blank.prompt in page.content.decode()
    assert mc.prompt not in page.content.decode()

    _attempt(client, quiz, "Oxygen", "true", "stroma")

    blank.refresh_from_db()
    assert blank.flagged is False
    assert blank.flag_reason == ""
    assert ItemStatistic.objects.get(question=blank).p_correct == 0.8


@pytest.mark.django_db
@pytest.mark.usefixtures("thresholds")
def test_a_flag_set_for_another_reason_is_left_alone():
    quiz = quiz_make()
    mc = quiz.questions.get(position=1)
    Question.objects.filter(pk=mc.pk).update(flagged=True, flag_reason="Reported by a teacher.")
    client = learner_client(quiz.session.learner)
    for given in ["Chlorophyll", "Glucose", "Chlorophyll", "Starch"]:
        _attempt(client, quiz, given, "false", "grana")

    mc.refresh_from_db()
    assert (mc.flagged, mc.flag_reason) == (True, "Reported by a teacher.")
    assert ItemStatistic.objects.get(question=mc).flagged is False


@pytest.mark.django_db
def test_no_flags_before_enough_attempts():
    quiz = quiz_make()
    client = learner_client(quiz.session.learner)
    _attempt(client, quiz, "Glucose", "true", "stroma")

    assert not ItemStatistic.objects.filter(flagged=True).exists()
    assert not Question.objects.filter(flagged=True).exists()
