"""Reads of learning events and analytics, always within one learner's own sessions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Count, Max, QuerySet, Sum
from django.utils import timezone

from tutor.content.models import Question
from tutor.learning import xapi
from tutor.learning.engagement_scores import engagement_current
from tutor.learning.models import AttemptAnswer, ItemStatistic, LearnerSummary, QuizAttempt
from tutor.models import InteractionLog, StudySession


def quiz_attempts(session: StudySession) -> QuerySet:
    return QuizAttempt.objects.filter(session=session).order_by("-created_at", "-id")


def attempt_answers(attempt: QuizAttempt) -> list[AttemptAnswer]:
    return list(attempt.answers.select_related("question").order_by("question__position", "question_id"))


def learner_summaries(session: StudySession) -> QuerySet:
    return LearnerSummary.objects.filter(session=session).order_by("-created_at", "-id")


def interaction_logs(
    learner: AbstractBaseUser,
    session: StudySession,
    *,
    kinds: Iterable[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet:
    """The learner's log in the session, newest first; `since` inclusive, `until` exclusive."""
    logs = InteractionLog.objects.filter(learner=learner, session=session)
    kinds = [kind for kind in kinds if kind]
    if kinds:
        logs = logs.filter(kind__in=kinds)
    if since is not None:
        logs = logs.filter(created_at__gte=since)
    if until is not None:
        logs = logs.filter(created_at__lt=until)
    return logs.order_by("-created_at", "-id")


def xapi_statements(logs: Iterable[InteractionLog], session: StudySession, base_url: str) -> list[dict]:
    """The statements of the given log rows, in their order; a quiz attempt's answers are read
    from its stored attempt (the log itself holds no answer text)."""
    logs = list(logs)
    attempt_ids = [log.data.get("attempt") for log in logs if log.kind == "quiz_attempted"]
    answers: dict[int, list[dict]] = {}
    rows = (
        AttemptAnswer.objects.filter(attempt_id__in=[pk for pk in attempt_ids if isinstance(pk, int)])
        .order_by("question__position", "question_id")
        .values_list("attempt_id", "question_id", "question__type", "given", "correct")
    )
    for attempt_id, question_id, question_type, given, correct in rows:
        answers.setdefault(attempt_id, []).append(
            {"question": question_id, "type": question_type, "given": given, "correct": correct}
        )
    statements: list[dict] = []
    for log in logs:
        data = dict(log.data or {})
        if log.kind == "quiz_attempted":
            data["answers"] = answers.get(data.get("attempt"), [])
        event = xapi.Event(
            id=log.pk,
            learner_id=log.learner_id,
            kind=log.kind,
            created_at=log.created_at,
            session_id=log.session_id,
            session_title=session.title,
            data=data,
        )
        statements.extend(xapi.statements_for(event, base_url))
    return statements


def _quiz_figures(attempts: QuerySet) -> dict[str, Any]:
    figures = attempts.aggregate(
        attempts=Count("id"),
        mean_score=Avg("score"),
        best_score=Max("score"),
        time_on_task_s=Sum("time_taken_s"),
        last_attempt_at=Max("created_at"),
    )
    figures["mean_score"] = None if figures["mean_score"] is None else round(figures["mean_score"], 4)
    figures["time_on_task_s"] = round(figures["time_on_task_s"] or 0.0, 2)
    return figures


def _engagement(row) -> dict[str, Any]:
    return {
        "score": row.score,
        "computed_at": row.computed_at,
        "weights_version": row.weights_version,
        "contributions": row.contributions,
    }


def session_analytics(session: StudySession, *, now: datetime | None = None) -> dict[str, Any]:
    """Engagement (with its explanation), quiz and summary figures, activity by kind and the
    session's flagged questions."""
    now = now or timezone.now()
    engagement = engagement_current(session, now=now)
    latest_summary = learner_summaries(session).first()
    activity = dict(
        InteractionLog.objects.filter(session=session)
        .values_list("kind")
        .annotate(count=Count("id"))
        .order_by("kind")
        .values_list("kind", "count")
    )
    flagged = ItemStatistic.objects.filter(question__quiz__session=session, flagged=True).count()
    return {
        "session": session.pk,
        "engagement": _engagement(engagement),
        "quizzes": {
            **_quiz_figures(QuizAttempt.objects.filter(session=session)),
            "questions_flagged": flagged,
            "questions_answered": Question.objects.filter(
                quiz__session=session, statistic__attempts__gt=0
            ).count(),
        },
        "summaries": {
            "count": LearnerSummary.objects.filter(session=session).count(),
            "latest_coverage": latest_summary.coverage if latest_summary else None,
            "covered_concepts": latest_summary.covered if latest_summary else [],
            "missed_concepts": latest_summary.missed if latest_summary else [],
        },
        "activity": {
            "events": activity,
            "last_activity_at": InteractionLog.objects.filter(session=session).aggregate(
                last=Max("created_at")
            )["last"],
        },
    }


# The learner's overview computes stale scores of at most this many recent sessions per request.
OVERVIEW_SESSIONS = 50


def learner_analytics(learner: AbstractBaseUser, *, now: datetime | None = None) -> dict[str, Any]:
    """Figures across the learner's sessions, with each recent session's engagement."""
    now = now or timezone.now()
    sessions = list(
        StudySession.objects.filter(learner=learner, archived_at__isnull=True)[:OVERVIEW_SESSIONS]
    )
    per_session = []
    for session in sessions:
        engagement = engagement_current(session, now=now)
        figures = _quiz_figures(QuizAttempt.objects.filter(session=session))
        per_session.append(
            {
                "id": session.pk,
                "title": session.title,
                "engagement": engagement.score,
                "attempts": figures["attempts"],
                "mean_score": figures["mean_score"],
                "summaries": LearnerSummary.objects.filter(session=session).count(),
                "missed_concepts": (session.context or {}).get("missed_concepts", []),
            }
        )
    scores = [row["engagement"] for row in per_session]
    return {
        "sessions": StudySession.objects.filter(learner=learner).count(),
        "active_sessions": len(sessions),
        "quizzes": _quiz_figures(QuizAttempt.objects.filter(learner=learner)),
        "summaries": LearnerSummary.objects.filter(learner=learner).count(),
        "mean_engagement": round(sum(scores) / len(scores), 1) if scores else None,
        "per_session": per_session,
    }
