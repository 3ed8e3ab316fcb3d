"""Writes of learning events: quiz attempts (scored here) and learner summaries (compared with
the key concepts). Each write is one transaction that also logs the interaction and refreshes
what depends on it (item statistics, the session's missed concepts)."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework import status

from chatplatform.errors import ApplicationError
from tutor.content.models import Analysis, Question, Quiz
from tutor.content.services import answer_is_correct
from tutor.learning.concept_coverage import KeyConcept, concept_coverage
from tutor.learning.item_analysis import item_statistics_recompute
from tutor.learning.models import AttemptAnswer, LearnerSummary, QuizAttempt
from tutor.models import StudySession
from tutor.services import log_interaction

MAX_ANSWER_CHARS = 2000
MAX_TIME_TAKEN_S = 24 * 3600
SUMMARY_MIN_CHARS = 20
SUMMARY_MAX_CHARS = 20_000


def _invalid(code: str, message: str, fields: dict[str, Any] | None = None) -> ApplicationError:
    return ApplicationError(code, message, fields=fields)


def _given_text(value: Any) -> str:
    # A true/false answer may arrive as a JSON boolean.
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise _invalid("invalid", "Each answer's `given` must be text.", {"answers": ["given must be text."]})
    return str(value).strip()


@transaction.atomic
def quiz_attempt_create(
    *,
    learner: AbstractBaseUser,
    session: StudySession,
    quiz_id: int | None,
    answers: list[dict[str, Any]],
    time_taken_s: float,
) -> QuizAttempt:
    """Score the learner's answers to one quiz of the session and store the attempt.

    `answers` holds `{"question": id, "given": text}`; a question of the quiz without an answer
    counts as wrong. The quiz defaults to the session's latest. Item statistics of the quiz's
    questions are recomputed in the same transaction.
    """
    quizzes = Quiz.objects.filter(session=session)
    quiz = (
        quizzes.filter(pk=quiz_id).first() if quiz_id is not None else quizzes.order_by("-created_at").first()
    )
    if quiz is None:
        raise ApplicationError(
            "quiz_not_found", "This session has no such quiz.", status_code=status.HTTP_404_NOT_FOUND
        )
    if not isinstance(time_taken_s, int | float) or not math.isfinite(time_taken_s):
        raise _invalid("invalid", "time_taken_s must be a number.", {"time_taken_s": ["Must be a number."]})
    if not 0 <= time_taken_s <= MAX_TIME_TAKEN_S:
        raise _invalid(
            "invalid",
            "time_taken_s is out of range.",
            {"time_taken_s": [f"Must be between 0 and {MAX_TIME_TAKEN_S} seconds."]},
        )
    questions = {
        question.pk: question for question in Question.objects.filter(quiz=quiz).order_by("position")
    }
    if not questions:
        raise _invalid("quiz_empty", "This quiz has no questions to answer.")
    given: dict[int, str] = {}
    for index, answer in enumerate(answers):
        question_id = answer.get("question") if isinstance(answer, dict) else None
        if isinstance(question_id, bool) or not isinstance(question_id, int):
            raise _invalid(
                "invalid",
                "Each answer needs a question id.",
                {"answers": [f"Answer {index + 1}: no question id."]},
            )
        if question_id not in questions:
            raise _invalid(
                "question_not_in_quiz",
                "An answer is for a question that is not in this quiz.",
                {"answers": [f"Question {question_id} is not in quiz {quiz.pk}."]},
            )
        if question_id in given:
            raise _invalid(
                "duplicate_answer",
                "A question was answered twice in one attempt.",
                {"answers": [f"Question {question_id} is answered more than once."]},
            )
        text = _given_text(answer.get("given"))
        if len(text) > MAX_ANSWER_CHARS:
            raise _invalid(
                "invalid", "An answer is too long.", {"answers": [f"At most {MAX_ANSWER_CHARS} characters."]}
            )
        given[question_id] = text

    rows = []
    for question in questions.values():
        text = given.get(question.pk, "")
        rows.append(
            AttemptAnswer(
                question=question, given=text, correct=bool(text) and answer_is_correct(question, text)
            )
        )
    correct = sum(row.correct for row in rows)
    total = len(rows)
    attempt = QuizAttempt.objects.create(
        quiz=quiz,
        session=session,
        learner=learner,
        score=round(correct / total, 4),
        correct=correct,
        total=total,
        time_taken_s=round(float(time_taken_s), 2),
    )
    for row in rows:
        row.attempt = attempt
    AttemptAnswer.objects.bulk_create(rows)
    log_interaction(
        learner,
        "quiz_attempted",
        session=session,
        quiz=quiz.pk,
        attempt=attempt.pk,
        correct=correct,
        total=total,
        score=attempt.score,
        time_taken_s=attempt.time_taken_s,
    )
    item_statistics_recompute(question_ids=list(questions))
    return attempt


@transaction.atomic
def learner_summary_create(*, learner: AbstractBaseUser, session: StudySession, text: str) -> LearnerSummary:
    """Store the learner's summary with the key concepts of the session's latest analysis it
    covers and misses, and keep the missed terms in `session.context["missed_concepts"]` for the
    next lesson and quiz to lean on."""
    text = (text or "").strip() if isinstance(text, str) else ""
    if not SUMMARY_MIN_CHARS <= len(text) <= SUMMARY_MAX_CHARS:
        raise _invalid(
            "invalid",
            "The summary's length is out of range.",
            {"text": [f"Write {SUMMARY_MIN_CHARS} to {SUMMARY_MAX_CHARS} characters."]},
        )
    analysis = Analysis.objects.filter(session=session).order_by("-created_at", "-id").first()
    if analysis is None:
        raise ApplicationError(
            "analysis_not_ready",
            "The session has no analysis yet to compare a summary with.",
            status_code=status.HTTP_409_CONFLICT,
        )
    concepts = [
        KeyConcept(term=concept.term, definition=concept.definition)
        for concept in analysis.concepts.order_by("position", "id")
    ]
    coverage = concept_coverage(text, concepts)
    summary = LearnerSummary.objects.create(
        session=session,
        learner=learner,
        analysis=analysis,
        text=text,
        covered=coverage.covered,
        missed=coverage.missed,
        matches=[match.as_dict() for match in coverage.matches],
        coverage=coverage.share,
    )
    # Locked, so that another write of the session's context in the meantime is not lost.
    locked = StudySession.objects.select_for_update().get(pk=session.pk)
    locked.context = {**(locked.context or {}), "missed_concepts": coverage.missed}
    locked.save(update_fields=["context", "updated_at"])
    session.context = locked.context
    log_interaction(
        learner,
        "summary_submitted",
        session=session,
        summary=summary.pk,
        analysis=analysis.pk,
        covered=coverage.covered,
        missed=coverage.missed,
    )
    return summary
