"""Daily rollups: rebuilt whole from the raw rows, refreshed for the days that changed, rebuilt for
a range as a job, and run hourly by beat."""

import json
import math
import random
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from analytics.models import ConversationInsight, DailyRollup
from analytics.rollups import (
    Figures,
    analytics_rollup,
    bucket_upper_ms,
    day_bounds,
    histogram_percentile,
    ttft_bucket,
)
from chatplatform.jobs.registry import kind_get
from tests.analytics import dashboard_factories as make
from tests.analytics import recompute
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db


class _Context:
    job_id, attempt = 1, 1

    def __init__(self):
        self.reported = []

    def progress(self, percent, message=""):
        self.reported.append((percent, message))


def _noon(days_ago: int) -> datetime:
    day = timezone.now().date() - timedelta(days=days_ago)
    return datetime.combine(day, time(12), tzinfo=UTC)


def _busy_day(bot, at: datetime, seed: int) -> None:
    """A day of varied answers, conversations, ratings and order lookups."""
    rng = random.Random(seed)  # noqa: S311  (reproducible test data)
    for n in range(6):
        convo = make.conversation(
            bot,
            at + timedelta(minutes=n),
            visitor=f"visitor-{n % 4}" if n % 3 else "",
            topic=rng.choice(["Levering", "Returnering", ""]),
            score=rng.choice([None, 3, 7, 9]),
            resolution=rng.choice(["open", "confirmed", "assumed", "unresolved"]),
        )
        for k in range(rng.randint(1, 3)):
            reply = make.answer(
                convo,
                at + timedelta(minutes=n, seconds=k),
                flow=rng.choice(["default", "flow2", "apiflow"]),
                status=rng.choice(["completed", "completed", "stopped", "failed", "interrupted"]),
                ttft_ms=rng.choice([None, rng.uniform(80, 4000)]),
                tokens_per_s=rng.choice([None, rng.uniform(5, 90)]),
                output_tokens=rng.randint(0, 400),
                not_found=rng.random() < 0.2,
            )
            if rng.random() < 0.4:
                make.rating(reply, rng.choice(["up", "down"]), at + timedelta(minutes=n, seconds=k + 1))
        make.order_lookup(
            bot, rng.choice(["verified", "not_verified", "error"]), at + timedelta(minutes=n), convo
        )


def _rollup_view(bot, day) -> dict:
    """The rolled-up day as the recomputation names its figures."""
    rows = {row.flow: Figures.from_rollup(row) for row in DailyRollup.objects.filter(chatbot=bot, day=day)}
    total = rows.pop("")

    def mean(total_sum, count):
        return total_sum / count if count else None

    def p(figures, q):
        return histogram_percentile(figures.ttft_histogram, q)

    return {
        "answers": total.answers,
        "conversations": total.conversations,
        "messages": total.messages,
        "questions": total.questions,
        "unique_visitors": total.unique_visitors,
        "ttft_p50_ms": p(total, 0.5),
        "ttft_p95_ms": p(total, 0.95),
        "tokens_per_s": mean(total.tokens_per_s_sum, total.tokens_per_s_count),
        "errors": total.errors,
        "error_rate": mean(total.errors, total.answers),
        "stopped_answers": total.stopped,
        "not_found_answers": total.not_found,
        "output_tokens": total.output_tokens,
        "average_score": mean(total.score_sum, total.score_count),
        "ttft_mean_ms": mean(total.ttft_sum_ms, total.ttft_count),
        "scores": [total.score_counts.get(str(n), 0) for n in range(1, 11)],
        "topics": dict(total.topics),
        "resolution": {
            name: getattr(total, f"resolution_{name}")
            for name in ("open", "confirmed", "assumed", "unresolved")
        },
        "ratings": {"up": total.ratings_up, "down": total.ratings_down},
        "order_lookups": dict(total.order_lookups),
        "flows": {
            name: {
                "answers": f.answers,
                "ttft_p50_ms": p(f, 0.5),
                "ttft_p95_ms": p(f, 0.95),
                "tokens_per_s": mean(f.tokens_per_s_sum, f.tokens_per_s_count),
                "errors": f.errors,
                "average_score": mean(f.answer_score_sum, f.answer_score_count),
            }
            for name, f in sorted(rows.items())
        },
    }


def _approx(expected: dict) -> dict:
    return {
        key: _approx(value)
        if isinstance(value, dict)
        else pytest.approx(value)
        if isinstance(value, float)
        else value
        for key, value in expected.items()
    }


def test_a_day_rolls_up_to_what_its_raw_rows_say():
    bot, other = ChatbotFactory(), ChatbotFactory()
    _busy_day(bot, _noon(3), seed=1)
    _busy_day(other, _noon(3), seed=2)
    day = _noon(3).date()

    analytics_rollup(day_from=day, day_to=day)

    for chatbot in (bot, other):
        assert _rollup_view(chatbot, day) == _approx(recompute.figures(chatbot, *day_bounds(day)))


def test_running_again_changes_nothing():
    bot = ChatbotFactory()
    _busy_day(bot, _noon(2), seed=3)
    day = _noon(2).date()
    analytics_rollup(day_from=day, day_to=day)
    before = {(r.flow): Figures.from_rollup(r) for r in DailyRollup.objects.filter(day=day)}

    analytics_rollup(day_from=day, day_to=day)

    assert {(r.flow): Figures.from_rollup(r) for r in DailyRollup.objects.filter(day=day)} == before


def test_a_late_score_updates_its_day_on_the_next_refresh():
    bot = ChatbotFactory()
    convo = make.conversation(bot, _noon(5))
    make.answer(convo, _noon(5), flow="flow2")
    make.conversation(bot, _noon(8))
    first = analytics_rollup()
    day = _noon(5).date()
    assert day.isoformat() in first["days"]
    assert DailyRollup.objects.get(chatbot=bot, day=day, flow="").score_count == 0

    ConversationInsight.objects.filter(conversation=convo).update(
        score=8, topic="Levering", analysed_at=timezone.now(), updated_at=timezone.now()
    )
    second = analytics_rollup()

    # Only the changed day comes back, with yesterday and today.
    assert day.isoformat() in second["days"]
    assert _noon(8).date().isoformat() not in second["days"]
    total = DailyRollup.objects.get(chatbot=bot, day=day, flow="")
    assert (total.score_sum, total.score_count, total.topics) == (8, 1, {"Levering": 1})
    flow = DailyRollup.objects.get(chatbot=bot, day=day, flow="flow2")
    assert (flow.answer_score_sum, flow.answer_score_count) == (8, 1)


def test_a_late_resolution_stamped_long_before_updates_its_day():
    bot = ChatbotFactory()
    convo = make.conversation(bot, _noon(6))
    make.conversation(bot, _noon(9))
    analytics_rollup()
    day = _noon(6).date()
    assert DailyRollup.objects.get(chatbot=bot, day=day, flow="").resolution_assumed == 0

    # Settled late, with the moment it took effect days ago: only the write's time says it changed.
    insight = ConversationInsight.objects.get(conversation=convo)
    insight.resolution, insight.resolved_at = "assumed", _noon(6) + timedelta(minutes=30)
    insight.save()
    second = analytics_rollup()

    assert day.isoformat() in second["days"]
    assert _noon(9).date().isoformat() not in second["days"]
    assert DailyRollup.objects.get(chatbot=bot, day=day, flow="").resolution_assumed == 1


def test_the_job_rebuilds_a_range_with_progress_and_skips_days_past_retention(settings):
    settings.ANALYTICS_RETENTION_DAYS = 30
    bot = ChatbotFactory()
    for days_ago in (1, 2, 40):
        make.answer(make.conversation(bot, _noon(days_ago)), _noon(days_ago))
    kind = kind_get("analytics_rollup")
    context = _Context()
    start = (_noon(45).date()).isoformat()

    result = kind.run(context, kind.payload_validate({"from": start, "to": _noon(1).date().isoformat()}))

    assert result["days"][0] == (timezone.now() - timedelta(days=29)).date().isoformat()
    assert result["days"][-1] == _noon(1).date().isoformat()
    assert set(DailyRollup.objects.filter(flow="").values_list("day", flat=True)) == {
        _noon(1).date(),
        _noon(2).date(),
    }
    assert context.reported[-1][0] == 100
    assert context.reported[0][1].endswith("rolled up")


def test_the_job_refuses_a_reversed_range():
    kind = kind_get("analytics_rollup")

    with pytest.raises(Exception, match="before"):
        kind.payload_validate({"from": "2026-03-02", "to": "2026-03-01"})
    assert {f["name"] for f in kind.payload_fields()} == {"from", "to"}


def test_the_rollup_runs_hourly_as_a_job():
    task = PeriodicTask.objects.get(name="Roll up analytics by day")

    assert task.task == "chatplatform.jobs.tasks.enqueue_kind"
    assert json.loads(task.kwargs) == {"kind": "analytics_rollup", "payload": {}}
    assert (task.interval.every, task.interval.period) == (1, "hours")


def test_histogram_percentiles_are_the_bucket_edge_of_the_nearest_rank():
    rng = random.Random(7)  # noqa: S311
    values = [rng.uniform(0.5, 30_000) for _ in range(999)]
    histogram = {}
    for value in values:
        histogram[str(ttft_bucket(value))] = histogram.get(str(ttft_bucket(value)), 0) + 1

    for q in (0.5, 0.95, 0.99):
        exact = sorted(values)[max(1, math.ceil(q * len(values))) - 1]
        assert histogram_percentile(histogram, q) == recompute.nearest_rank(values, q)
        assert exact - 0.05 <= histogram_percentile(histogram, q) <= exact * 1.01 + 0.05
    assert bucket_upper_ms(ttft_bucket(1000.0)) == pytest.approx(1000.0, rel=0.01)
