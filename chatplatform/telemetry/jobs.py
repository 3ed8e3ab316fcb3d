"""The `telemetry_aggregate` job kind (hourly by beat) and the retention of call records."""

from rest_framework import serializers

from chatplatform.jobs.registry import JobContext, job_kind
from chatplatform.retention import register_cleaner
from chatplatform.telemetry.aggregates import records_delete_older_than, telemetry_aggregate


class AggregatePayload(serializers.Serializer):
    days = serializers.ListField(
        child=serializers.DateField(),
        required=False,
        max_length=400,
        help_text="Days to recompute; by default those that received records since the last run.",
    )


@job_kind(
    "telemetry_aggregate",
    payload=AggregatePayload,
    max_attempts=3,
    description="Recompute the daily telemetry aggregates (calls, errors, tokens, cost, latency) "
    "of the days that received records since the last run.",
)
def run_telemetry_aggregate(ctx: JobContext, payload: dict) -> dict:
    days = payload.get("days")
    if days is not None:
        days = [serializers.DateField().to_internal_value(day) for day in days]
    return telemetry_aggregate(days=days, progress=ctx.progress)


register_cleaner("telemetry records", records_delete_older_than)
