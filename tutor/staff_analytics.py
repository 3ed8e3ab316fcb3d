"""Staff analytics of the tutor: how documents fare in processing, and what the tutor costs.

Document figures come from the documents themselves (processing time is `finished_at -
started_at`, the wait before it `started_at - created_at`); token usage and cost come from the
telemetry call records of the tutor's features (`tutor_*`), priced with the runtime config's
`llm_prices` as the telemetry's daily aggregate prices them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from chatplatform.telemetry.aggregates import cost_of, llm_prices, percentile
from chatplatform.telemetry.models import CallRecord
from tutor.models import Chunk, Document

TUTOR_FEATURE_PREFIX = "tutor"


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    @classmethod
    def last_days(cls, days: int, *, now: datetime | None = None) -> Window:
        end = now or timezone.now()
        return cls(start=end - timedelta(days=days), end=end)


def tutor_analytics(window: Window) -> dict[str, Any]:
    """Everything the staff page and `GET /api/v1/tutor/staff/analytics/` show."""
    return {
        "from": window.start,
        "to": window.end,
        "documents": documents_analytics(window),
        "embeddings": embeddings_analytics(),
        "usage": usage_analytics(window),
    }


def documents_analytics(window: Window) -> dict[str, Any]:
    documents = Document.objects.filter(created_at__gte=window.start, created_at__lt=window.end)
    by_status = dict(documents.values_list("status").annotate(n=Count("id")).order_by())
    ready = by_status.get(Document.Status.READY, 0)
    failed = by_status.get(Document.Status.FAILED, 0)
    finished = documents.filter(
        status__in=[Document.Status.READY, Document.Status.FAILED],
        started_at__isnull=False,
        finished_at__isnull=False,
    ).values_list("created_at", "started_at", "finished_at")
    processing = sorted((end - start).total_seconds() * 1000 for _, start, end in finished)
    waiting = sorted((start - created).total_seconds() * 1000 for created, start, _ in finished)
    per_day = dict(
        documents.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "uploaded": sum(by_status.values()),
        "by_status": {status: by_status.get(status, 0) for status in Document.Status.values},
        "success_rate": round(ready / (ready + failed), 4) if ready + failed else None,
        "processing_ms": _spread(processing),
        "queue_wait_ms": _spread(waiting),
        "by_kind": _counts(documents, "kind", Document.Kind.values),
        "errors": dict(
            Counter(documents.filter(status=Document.Status.FAILED).values_list("error_code", flat=True))
        ),
        "bytes": documents.aggregate(total=Sum("size_bytes"))["total"] or 0,
        "per_day": _days(window, per_day),
    }


def embeddings_analytics() -> dict[str, int]:
    """The queue as it stands now: passages per embedding status."""
    counts = dict(Chunk.objects.values_list("embedding_status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in Chunk.EmbeddingStatus.values}


def usage_analytics(window: Window) -> dict[str, Any]:
    """Tokens and estimated cost of the tutor's provider calls, per feature and model."""
    rows = (
        CallRecord.objects.filter(
            started_at__gte=window.start,
            started_at__lt=window.end,
            feature__startswith=TUTOR_FEATURE_PREFIX,
        )
        .values("feature", "operation", "request_model")
        .annotate(calls=Count("id"), input_tokens=Sum("input_tokens"), output_tokens=Sum("output_tokens"))
        .order_by("feature", "operation", "request_model")
    )
    prices = llm_prices()
    groups = []
    totals: dict[str, Any] = defaultdict(int)
    total_cost = Decimal(0)
    for row in rows:
        tokens_in, tokens_out = row["input_tokens"] or 0, row["output_tokens"] or 0
        cost = cost_of(row["request_model"], tokens_in, tokens_out, prices)
        groups.append(
            {
                "feature": row["feature"],
                "operation": row["operation"],
                "model": row["request_model"],
                "calls": row["calls"],
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "cost_usd": str(cost),
            }
        )
        totals["calls"] += row["calls"]
        totals["input_tokens"] += tokens_in
        totals["output_tokens"] += tokens_out
        total_cost += cost
    return {
        "calls": totals["calls"],
        "input_tokens": totals["input_tokens"],
        "output_tokens": totals["output_tokens"],
        "cost_usd": str(total_cost.quantize(Decimal("0.000001"))),
        "by_feature": groups,
    }


def _spread(sorted_ms: list[float]) -> dict[str, float | int | None]:
    return {
        "count": len(sorted_ms),
        "mean": round(sum(sorted_ms) / len(sorted_ms), 1) if sorted_ms else None,
        "p50": _round(percentile(sorted_ms, 0.5)),
        "p95": _round(percentile(sorted_ms, 0.95)),
        "max": _round(sorted_ms[-1] if sorted_ms else None),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _counts(queryset, field_name: str, keys: list[str]) -> dict[str, int]:
    counts = dict(queryset.values_list(field_name).annotate(n=Count("id")).order_by())
    return {key: counts.get(key, 0) for key in keys}


def _days(window: Window, per_day: dict) -> list[dict[str, Any]]:
    """One entry per UTC day of the window, zero where nothing was uploaded."""
    counts = {(day.date() if isinstance(day, datetime) else day): n for day, n in per_day.items()}
    first: date = window.start.date()
    last: date = window.end.date()
    days = []
    day = first
    while day <= last:
        days.append({"day": day.isoformat(), "uploads": counts.get(day, 0)})
        day += timedelta(days=1)
    return days
