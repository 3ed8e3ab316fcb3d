"""Call records written straight to the table, for the aggregate and admin tests."""

from datetime import UTC, datetime

from chatplatform.telemetry.models import CallRecord


def call_record(*, at: datetime | None = None, **fields) -> CallRecord:
    at = at or datetime.now(UTC)
    values = {
        "operation": "chat",
        "provider": "openai",
        "request_model": "gpt-4o-mini",
        "duration_ms": 100.0,
        "tenant_type": "chatbot",
        "tenant_id": "nordvin",
        "feature": "answer",
        "input_tokens": 0,
        "output_tokens": 0,
        **fields,
    }
    return CallRecord.objects.create(started_at=at, day=at.date(), **values)
