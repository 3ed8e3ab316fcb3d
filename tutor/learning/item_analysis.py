"""Stores the item statistics of questions and flags the ones that fail the thresholds (runtime
config `tutor_item_thresholds`): the flag goes on `Question.flagged` too, so that new quizzes
leave the question out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from chatplatform.runtime_config.selectors import config_get
from tutor.content.models import Question
from tutor.learning.config import ITEM_THRESHOLDS_KEY
from tutor.learning.item_statistics import ItemResponse, Thresholds, item_flags, item_stats
from tutor.learning.models import AttemptAnswer, ItemStatistic

# Set on `Question.flag_reason` by this module, so that it only ever clears its own flags.
FLAG_PREFIX = "Item statistics: "


@transaction.atomic
def item_statistics_recompute(*, question_ids: Iterable[int]) -> list[ItemStatistic]:
    """Recompute the statistics of the given questions from all their answers."""
    question_ids = sorted(set(question_ids))
    thresholds = Thresholds.from_config(config_get(ITEM_THRESHOLDS_KEY))
    responses: dict[int, list[ItemResponse]] = defaultdict(list)
    answers = (
        AttemptAnswer.objects.filter(question_id__in=question_ids)
        .order_by("attempt_id")
        .values_list("question_id", "given", "correct", "attempt__score")
    )
    for question_id, given, correct, score in answers:
        responses[question_id].append(ItemResponse(given=given, correct=correct, attempt_score=score))
    questions = Question.objects.select_for_update().filter(pk__in=question_ids).order_by("pk")
    existing = {row.question_id: row for row in ItemStatistic.objects.filter(question_id__in=question_ids)}
    stored = []
    for question in questions:
        options = question.options if question.type == "multiple_choice" else None
        stats = item_stats(responses[question.pk], options=options or None, answer=question.answer)
        flags = item_flags(stats, thresholds)
        row = existing.get(question.pk) or ItemStatistic(question=question)
        row.attempts = stats.attempts
        row.p_correct = stats.p_correct
        row.discrimination = stats.discrimination
        row.distractor_counts = stats.distractor_counts
        row.flagged = bool(flags)
        row.flag_codes = [flag.code for flag in flags]
        row.flag_reason = " ".join(flag.message for flag in flags)
        row.save()
        stored.append(row)
        _question_flag(question, row)
    return stored


def _question_flag(question: Question, row: ItemStatistic) -> None:
    if row.flagged:
        reason = (FLAG_PREFIX + row.flag_reason)[: Question._meta.get_field("flag_reason").max_length]
        if not question.flagged or question.flag_reason != reason:
            question.flagged = True
            question.flag_reason = reason
            question.save(update_fields=["flagged", "flag_reason"])
    elif question.flagged and question.flag_reason.startswith(FLAG_PREFIX):
        # Flagged by an earlier computation that newer answers no longer support.
        question.flagged = False
        question.flag_reason = ""
        question.save(update_fields=["flagged", "flag_reason"])
