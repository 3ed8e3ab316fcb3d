"""The `analytics_rollup` job kind: hourly by beat for the days that changed, or any range."""

from rest_framework import serializers

from analytics.rollups import analytics_rollup
from chatplatform.jobs.errors import JobError
from chatplatform.jobs.registry import JobContext, job_kind


class RollupPayload(serializers.Serializer):
    def get_fields(self):
        # "from" is a Python keyword, so the fields cannot be class attributes.
        return {
            "from": serializers.DateField(required=False, help_text="First day to rebuild (UTC)."),
            "to": serializers.DateField(
                required=False, help_text="Last day to rebuild (UTC), today by default."
            ),
        }

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        return attrs


@job_kind(
    "analytics_rollup",
    payload=RollupPayload,
    max_attempts=3,
    description="Rebuild the analytics daily rollups of the days that changed since the last run, "
    "or of the days from/to.",
)
def run_analytics_rollup(ctx: JobContext, payload: dict) -> dict:
    day = serializers.DateField()
    day_from = day.to_internal_value(payload["from"]) if payload.get("from") else None
    day_to = day.to_internal_value(payload["to"]) if payload.get("to") else None
    if day_from and day_to and day_from > day_to:
        raise JobError("invalid_range", "from is after to.", transient=False)
    return analytics_rollup(day_from=day_from, day_to=day_to, progress=ctx.progress)
