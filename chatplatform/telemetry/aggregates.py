"""The daily aggregate of the call records: per day, tenant, feature, operation, model and
provider, the calls, errors, tokens, estimated cost and latency percentiles.

A day is recomputed whole from its records, so running again changes nothing and a record
written late (a process that flushed after midnight, a batch retried) updates its day on the
next run: each run recomputes the days of the records written since the previous one started.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chatplatform.retention import Batch, delete_in_batches
from chatplatform.telemetry.models import AggregateCheckpoint, CallRecord, DailyAggregate

CHECKPOINT = "daily_aggregate"
# Rows are stamped when their batch is built and become visible when it commits a moment later:
# the next run looks back this much further than the previous run's start.
LATE_MARGIN = timedelta(minutes=10)
MILLION = Decimal(1_000_000)


@dataclass
class _Group:
    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_calls: int = 0
    durations: list[float] = field(default_factory=list)


def llm_prices() -> dict:
    """The per-model price table (USD per million tokens) from the runtime config."""
    from chatplatform import runtime_config

    return runtime_config.get("llm_prices") or {}


def price_for(model: str, prices: dict) -> dict | None:
    """The model's prices: its own entry, else the longest entry it starts with (a dated
    version such as gpt-4o-mini-2024-07-18 takes gpt-4o-mini's)."""
    if not model:
        return None
    if model in prices:
        return prices[model]
    matches = [name for name in prices if model.startswith(name)]
    return prices[max(matches, key=len)] if matches else None


def cost_of(model: str, input_tokens: int, output_tokens: int, prices: dict) -> Decimal:
    price = price_for(model, prices)
    if not price:
        return Decimal(0)
    cost = Decimal(str(price.get("input_per_million", 0))) * input_tokens / MILLION
    cost += Decimal(str(price.get("output_per_million", 0))) * output_tokens / MILLION
    return cost.quantize(Decimal("0.000001"))


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def day_aggregate(day: date, *, prices: dict | None = None) -> int:
    """Recompute one day's aggregate rows from its records; returns how many rows it has."""
    prices = llm_prices() if prices is None else prices
    groups: dict[tuple, _Group] = defaultdict(_Group)
    rows = CallRecord.objects.filter(day=day).values_list(
        "tenant_type",
        "tenant_id",
        "feature",
        "operation",
        "request_model",
        "response_model",
        "provider",
        "outcome",
        "input_tokens",
        "output_tokens",
        "usage_estimated",
        "duration_ms",
    )
    for (
        tenant_type,
        tenant_id,
        feature,
        operation,
        request_model,
        response_model,
        provider,
        outcome,
        input_tokens,
        output_tokens,
        estimated,
        duration_ms,
    ) in rows.iterator(chunk_size=5000):
        model = request_model or response_model
        group = groups[(tenant_type, tenant_id, feature, operation, model, provider)]
        group.calls += 1
        group.errors += outcome == CallRecord.Outcome.ERROR
        group.input_tokens += input_tokens or 0
        group.output_tokens += output_tokens or 0
        group.estimated_calls += bool(estimated)
        group.durations.append(duration_ms)
    aggregates = []
    for (tenant_type, tenant_id, feature, operation, model, provider), group in groups.items():
        group.durations.sort()
        aggregates.append(
            DailyAggregate(
                day=day,
                tenant_type=tenant_type,
                tenant_id=tenant_id,
                feature=feature,
                operation=operation,
                model=model,
                provider=provider,
                calls=group.calls,
                errors=group.errors,
                input_tokens=group.input_tokens,
                output_tokens=group.output_tokens,
                estimated_calls=group.estimated_calls,
                estimated_cost_usd=cost_of(model, group.input_tokens, group.output_tokens, prices),
                latency_p50_ms=percentile(group.durations, 0.5),
                latency_p95_ms=percentile(group.durations, 0.95),
            )
        )
    with transaction.atomic():
        DailyAggregate.objects.filter(day=day).delete()
        DailyAggregate.objects.bulk_create(aggregates)
    return len(aggregates)


def days_pending(since: datetime | None) -> list[date]:
    """The days of the records written since `since` (all days when None), within retention:
    a day whose other records are gone would shrink."""
    oldest = (timezone.now() - timedelta(days=getattr(settings, "RETENTION_DAYS", 30))).date()
    records = CallRecord.objects.filter(day__gt=oldest)
    if since is not None:
        records = records.filter(recorded_at__gte=since - LATE_MARGIN)
    return list(records.order_by("day").values_list("day", flat=True).distinct())


def telemetry_aggregate(*, days: list[date] | None = None, progress=None) -> dict:
    """Recompute the days that received records since the last run (or the `days` given).

    `progress(percent, message)`, if given, is told after each day (the job's lease)."""
    started = timezone.now()
    checkpoint = AggregateCheckpoint.objects.filter(name=CHECKPOINT).first()
    if days is None:
        days = days_pending(checkpoint.at if checkpoint else None)
    prices = llm_prices()
    rows = 0
    for done, day in enumerate(days, start=1):
        rows += day_aggregate(day, prices=prices)
        if progress is not None:
            progress(int(done * 100 / len(days)), f"{day.isoformat()} aggregated")
    AggregateCheckpoint.objects.update_or_create(name=CHECKPOINT, defaults={"at": started})
    return {"days": [day.isoformat() for day in days], "rows": rows}


def records_delete_older_than(
    older_than: datetime, *, batch_size: int | None = None, on_batch: Callable[[Batch], None] | None = None
) -> int:
    """Delete call records that started before `older_than` (the retention cleaner), in batches
    of RETENTION_BATCH_SIZE; the daily aggregates stay."""
    return delete_in_batches(
        "telemetry records",
        CallRecord.objects.filter(started_at__lt=older_than),
        batch_size=batch_size,
        on_batch=on_batch,
    )
