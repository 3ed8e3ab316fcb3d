"""The daily aggregate: grouping, cost from the price table, percentiles, late records."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from chatplatform.telemetry import aggregates
from chatplatform.telemetry.aggregates import (
    cost_of,
    records_delete_older_than,
    telemetry_aggregate,
)
from chatplatform.telemetry.models import CallRecord, DailyAggregate
from tests.chatplatform.telemetry.factories import call_record

pytestmark = pytest.mark.django_db

PRICES = {
    "gpt-4o-mini": {"input_per_million": 0.15, "output_per_million": 0.6},
    "text-embedding-3-small": {"input_per_million": 0.02, "output_per_million": 0},
}


@pytest.fixture(autouse=True)
def _prices(monkeypatch):
    monkeypatch.setattr(aggregates, "llm_prices", lambda: PRICES)


def _today_at(hour: int) -> datetime:
    return timezone.now().replace(hour=hour, minute=0, second=0, microsecond=0)


def test_it_sums_calls_errors_tokens_and_cost_per_group():
    at = _today_at(9)
    for n in range(1, 21):
        call_record(at=at, duration_ms=float(n), input_tokens=1000, output_tokens=500)
    call_record(at=at, outcome="error", error_type="RateLimitError", duration_ms=50.0)
    call_record(
        at=at,
        operation="embeddings",
        feature="retrieval",
        request_model="text-embedding-3-small",
        input_tokens=10_000,
        output_tokens=None,
        usage_estimated=True,
    )

    telemetry_aggregate()

    chat = DailyAggregate.objects.get(operation="chat")
    assert (chat.day, chat.tenant_type, chat.tenant_id) == (at.date(), "chatbot", "nordvin")
    assert chat.feature == "answer"
    assert (chat.model, chat.provider) == ("gpt-4o-mini", "openai")
    assert (chat.calls, chat.errors) == (21, 1)
    assert (chat.input_tokens, chat.output_tokens) == (20_000, 10_000)
    assert chat.estimated_cost_usd == Decimal("0.009000")  # 0.02M x 0.15 + 0.01M x 0.6
    assert chat.latency_p50_ms == 11.0
    assert chat.latency_p95_ms == 20.0
    embeddings = DailyAggregate.objects.get(operation="embeddings")
    assert (embeddings.feature, embeddings.estimated_calls) == ("retrieval", 1)
    assert embeddings.estimated_cost_usd == Decimal("0.000200")


def test_a_dated_model_takes_the_price_of_its_family():
    assert cost_of("gpt-4o-mini-2024-07-18", 1_000_000, 0, PRICES) == Decimal("0.150000")
    assert cost_of("unknown-model", 1_000_000, 1_000_000, PRICES) == Decimal(0)


def test_running_again_changes_nothing():
    call_record(at=_today_at(8), input_tokens=10)
    telemetry_aggregate()
    first = list(DailyAggregate.objects.values("calls", "input_tokens", "estimated_cost_usd"))

    telemetry_aggregate()

    assert list(DailyAggregate.objects.values("calls", "input_tokens", "estimated_cost_usd")) == first


def test_a_late_record_updates_its_day():
    yesterday = _today_at(10) - timedelta(days=1)
    call_record(at=yesterday, input_tokens=5)
    telemetry_aggregate()

    # Written now (a process that flushed late) about a call of yesterday.
    call_record(at=yesterday + timedelta(hours=13), input_tokens=7)
    result = telemetry_aggregate()

    assert result["days"] == [yesterday.date().isoformat()]
    row = DailyAggregate.objects.get(day=yesterday.date())
    assert (row.calls, row.input_tokens) == (2, 12)


def test_tenants_and_features_are_separate_rows():
    at = _today_at(7)
    call_record(at=at, tenant_id="nordvin")
    call_record(at=at, tenant_id="vinbutik")
    call_record(at=at, tenant_id="nordvin", feature="routing", operation="json")
    call_record(at=at, tenant_type="learner", tenant_id="17", feature="tutor")

    telemetry_aggregate()

    assert DailyAggregate.objects.count() == 4


def test_the_given_days_are_recomputed():
    day = date(2024, 3, 1)
    call_record(at=datetime(2024, 3, 1, 12, tzinfo=UTC))

    result = telemetry_aggregate(days=[day])

    assert result == {"days": ["2024-03-01"], "rows": 1}
    assert DailyAggregate.objects.get().day == day


def test_the_retention_cleaner_deletes_old_records_and_keeps_the_aggregates():
    old = call_record(at=timezone.now() - timedelta(days=40))
    recent = call_record(at=timezone.now())
    telemetry_aggregate(days=[old.day, recent.day])

    deleted = records_delete_older_than(timezone.now() - timedelta(days=30))

    assert deleted == 1
    assert list(CallRecord.objects.values_list("pk", flat=True)) == [recent.pk]
    assert DailyAggregate.objects.count() == 2


def test_the_price_table_comes_from_the_runtime_config(monkeypatch):
    monkeypatch.undo()
    pytest.importorskip("chatplatform.runtime_config")

    assert isinstance(aggregates.llm_prices(), dict)
