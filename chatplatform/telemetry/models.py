"""Telemetry rows: one per call to an AI provider or external system, and the daily aggregate."""

from django.db import models


class CallRecord(models.Model):
    """One call, as the span recorded it; `attributes` holds it under the OpenTelemetry GenAI
    names. Written in batches by the flusher thread, never on the chat's hot path."""

    class Outcome(models.TextChoices):
        OK = "ok", "ok"
        ERROR = "error", "error"

    started_at = models.DateTimeField(db_index=True)
    # The UTC day of `started_at`: the daily aggregate's key.
    day = models.DateField()
    # When the row was written; the aggregate job recomputes the days of rows written since its
    # last run, so late records update their day.
    recorded_at = models.DateTimeField(auto_now_add=True, db_index=True)
    operation = models.CharField(max_length=32)
    provider = models.CharField(max_length=64, blank=True)
    request_model = models.CharField(max_length=128, blank=True)
    response_model = models.CharField(max_length=128, blank=True)
    input_tokens = models.IntegerField(null=True, blank=True)
    output_tokens = models.IntegerField(null=True, blank=True)
    # Counted with tiktoken because the provider reported no usage.
    usage_estimated = models.BooleanField(default=False)
    ttft_ms = models.FloatField(null=True, blank=True, help_text="Time to first token of a stream.")
    duration_ms = models.FloatField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OK)
    error_type = models.CharField(max_length=128, blank=True)
    tenant_type = models.CharField(max_length=16, blank=True, help_text="chatbot or learner")
    tenant_id = models.CharField(max_length=128, blank=True)
    feature = models.CharField(max_length=32, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["day", "tenant_type", "tenant_id"], name="telemetry_call_day_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.request_model or self.provider} ({self.outcome})"


class DailyAggregate(models.Model):
    """Calls of one day per tenant, feature, operation, model and provider (recomputed whole)."""

    day = models.DateField()
    tenant_type = models.CharField(max_length=16, blank=True)
    tenant_id = models.CharField(max_length=128, blank=True)
    feature = models.CharField(max_length=32, blank=True)
    operation = models.CharField(max_length=32)
    model = models.CharField(max_length=128, blank=True)
    provider = models.CharField(max_length=64, blank=True)
    calls = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    # Calls whose tokens were counted with tiktoken, not reported by the provider.
    estimated_calls = models.PositiveIntegerField(default=0)
    estimated_cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    latency_p50_ms = models.FloatField(null=True, blank=True)
    latency_p95_ms = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "tenant_type", "tenant_id", "feature", "operation", "model"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "tenant_type", "tenant_id", "feature", "operation", "model", "provider"],
                name="telemetry_daily_aggregate_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.tenant_id or '-'} {self.feature or '-'} {self.operation} {self.model}"


class AggregateCheckpoint(models.Model):
    """When the aggregate job last started: rows written since (minus a margin) mark their days
    for recomputation."""

    name = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.at:%Y-%m-%d %H:%M:%S}"
