"""The `tutor_engagement` job kind: sessions' engagement scores, every 15 minutes (a beat row
made by this app's data migration) or for one session on request."""

from rest_framework import serializers

from chatplatform.jobs.registry import JobContext, job_kind
from tutor.learning.engagement_scores import engagement_recompute, engagement_recompute_active
from tutor.models import StudySession


class EngagementPayload(serializers.Serializer):
    session = serializers.IntegerField(
        required=False, min_value=1, help_text="One session; without it, every recently active one."
    )


@job_kind(
    "tutor_engagement",
    payload=EngagementPayload,
    max_attempts=3,
    description="Recompute the engagement scores of recently active study sessions (or of one).",
)
def run_tutor_engagement(ctx: JobContext, payload: dict) -> dict:
    if "session" in payload:
        session = StudySession.objects.filter(pk=payload["session"]).first()
        if session is None:
            return {"sessions": 0}
        row = engagement_recompute(session)
        ctx.progress(100, "1 session")
        return {"sessions": 1, "score": row.score}
    computed = engagement_recompute_active(progress=ctx.progress)
    ctx.progress(100, f"{computed} sessions")
    return {"sessions": computed}
