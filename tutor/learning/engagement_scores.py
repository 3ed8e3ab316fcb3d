"""Computes and stores sessions' engagement scores: the facts come from the session's attempts,
summaries and interaction log, the weights from the runtime config `tutor_engagement_weights`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import Avg, Count, F, Max, Q, Sum
from django.utils import timezone

from chatplatform.runtime_config.selectors import config_get, config_stored
from tutor.learning.config import ENGAGEMENT_KEY
from tutor.learning.engagement import EngagementFacts, EngagementWeights, engagement_score
from tutor.learning.models import EngagementScore, LearnerSummary, QuizAttempt
from tutor.models import InteractionLog, StudySession

# A stored score older than this is computed again when read (recency moves on its own); also
# the beat job's interval.
STALE_AFTER = timedelta(minutes=15)
# The beat job keeps the scores of sessions active within this window up to date.
ACTIVE_WINDOW = timedelta(days=30)


def engagement_facts(session: StudySession) -> EngagementFacts:
    attempts = QuizAttempt.objects.filter(session=session).aggregate(
        count=Count("id"), mean=Avg("score"), seconds=Sum("time_taken_s")
    )
    summaries = LearnerSummary.objects.filter(session=session)
    latest = summaries.order_by("-created_at", "-id").values_list("coverage", flat=True).first()
    last_log = InteractionLog.objects.filter(session=session).aggregate(last=Max("created_at"))["last"]
    return EngagementFacts(
        attempts=attempts["count"],
        mean_attempt_score=attempts["mean"],
        summaries=summaries.count(),
        latest_coverage=latest,
        time_on_task_s=attempts["seconds"] or 0.0,
        last_activity_at=last_log,
    )


def engagement_weights() -> tuple[EngagementWeights, int]:
    """The weights in force and the config version they come from (0: the default)."""
    stored = config_stored(ENGAGEMENT_KEY)
    return EngagementWeights.from_config(config_get(ENGAGEMENT_KEY)), (stored.version if stored else 0)


def engagement_recompute(session: StudySession, *, now: datetime | None = None) -> EngagementScore:
    """Compute the session's engagement now and store it (one row per session)."""
    now = now or timezone.now()
    weights, version = engagement_weights()
    result = engagement_score(engagement_facts(session), weights, now)
    row, _ = EngagementScore.objects.update_or_create(
        session=session,
        defaults={
            "score": result.score,
            "contributions": [contribution.as_dict() for contribution in result.contributions],
            "weights_version": version,
            "computed_at": now,
        },
    )
    return row


def engagement_is_stale(session: StudySession, row: EngagementScore | None, now: datetime) -> bool:
    if row is None or row.computed_at < now - STALE_AFTER:
        return True
    return InteractionLog.objects.filter(session=session, created_at__gt=row.computed_at).exists()


def engagement_current(session: StudySession, *, now: datetime | None = None) -> EngagementScore:
    """The stored score, computed again first when it is stale."""
    now = now or timezone.now()
    row = EngagementScore.objects.filter(session=session).first()
    if engagement_is_stale(session, row, now):
        row = engagement_recompute(session, now=now)
    return row


def engagement_recompute_active(
    *, now: datetime | None = None, progress: Callable[[int, str], None] | None = None
) -> int:
    """Recompute the scores of sessions active within ACTIVE_WINDOW whose score is missing, older
    than their latest activity, or older than STALE_AFTER; returns how many were computed."""
    now = now or timezone.now()
    sessions = (
        StudySession.objects.filter(archived_at__isnull=True)
        .annotate(last_activity=Max("interactions__created_at"), computed_at=Max("engagement__computed_at"))
        .filter(last_activity__gte=now - ACTIVE_WINDOW)
        .filter(
            Q(computed_at__isnull=True)
            | Q(computed_at__lt=now - STALE_AFTER)
            | Q(last_activity__gt=F("computed_at"))
        )
        .order_by("pk")
    )
    ids = list(sessions.values_list("pk", flat=True))
    for done, session in enumerate(
        StudySession.objects.filter(pk__in=ids).order_by("pk").iterator(), start=1
    ):
        engagement_recompute(session, now=now)
        if progress is not None and (done % 50 == 0 or done == len(ids)):
            progress(int(done * 100 / len(ids)), f"{done} of {len(ids)} sessions")
    return len(ids)
