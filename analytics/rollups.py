"""Daily rollups: each chatbot's day per flow as counts and sums, so dashboards read small rows.

`window_figures` computes the figures of any time window from the raw rows (performance records,
insights, ratings, order lookups, messages); a day's rollup is that window stored, rebuilt whole
(so a rerun changes nothing), and the dashboard computes the part of today not yet rolled up the
same way. The hourly job recomputes the days whose rows changed since its previous run.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, DateField, OuterRef, Subquery, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.models import (
    ERROR_STATUSES,
    AnswerRating,
    ConversationInsight,
    DailyRollup,
    ProcessingMetrics,
)
from chatplatform.telemetry.models import AggregateCheckpoint
from conversations.models import Conversation, Message
from tracking.models import OrderLookup

ALL_FLOWS = DailyRollup.ALL_FLOWS
# A performance record without a flow is listed under this name in the per-flow rows.
NO_FLOW = "none"
CHECKPOINT = "analytics_rollup"
# Look back this much before the last run: a performance record carries when its answer was
# made, and is written a moment later (or by a refresh that ran late).
LATE_MARGIN = timedelta(hours=1)
# TTFT histogram buckets are 1 % wide: a percentile read from them is the upper edge of the
# bucket holding the exact (nearest-rank) value, at most 1 % above it. Buckets add up across
# days and flows, which exact percentiles do not.
BUCKET_RATIO = 1.01
_LOG_RATIO = math.log(BUCKET_RATIO)

Key = tuple[int, str]  # (chatbot pk, flow)


def ttft_bucket(ms: float) -> int:
    return 0 if ms <= 1 else math.ceil(math.log(ms) / _LOG_RATIO)


def bucket_upper_ms(bucket: int) -> float:
    return round(BUCKET_RATIO**bucket, 1)


def histogram_percentile(histogram: dict, q: float) -> float | None:
    """The nearest-rank percentile `q` (0-1) of a bucket histogram, as its bucket's upper edge."""
    items = sorted((int(bucket), count) for bucket, count in histogram.items() if count)
    total = sum(count for _, count in items)
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for bucket, count in items:
        seen += count
        if seen >= rank:
            return bucket_upper_ms(bucket)
    return None  # pragma: no cover  (rank <= total)


@dataclass
class Figures:
    """Counts and sums of one (chatbot, flow) over a window; mirrors DailyRollup's columns."""

    answers: int = 0
    errors: int = 0
    stopped: int = 0
    not_found: int = 0
    ttft_sum_ms: float = 0.0
    ttft_count: int = 0
    ttft_histogram: Counter = field(default_factory=Counter)
    tokens_per_s_sum: float = 0.0
    tokens_per_s_count: int = 0
    output_tokens: int = 0
    answer_score_sum: int = 0
    answer_score_count: int = 0
    messages: int = 0
    questions: int = 0
    conversations: int = 0
    unique_visitors: int = 0
    score_sum: int = 0
    score_count: int = 0
    score_counts: Counter = field(default_factory=Counter)
    resolution_open: int = 0
    resolution_confirmed: int = 0
    resolution_assumed: int = 0
    resolution_unresolved: int = 0
    ratings_up: int = 0
    ratings_down: int = 0
    topics: Counter = field(default_factory=Counter)
    order_lookups: Counter = field(default_factory=Counter)

    def add(self, other: Figures) -> Figures:
        """Add `other` in place (unique_visitors too: callers that need the exact count over
        several days read it from the insights, see selectors)."""
        for name in _COUNTERS:
            getattr(self, name).update(getattr(other, name))
        for name in _NUMBERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @classmethod
    def from_values(cls, values) -> Figures:
        """From DailyRollup's columns named in FIGURE_FIELDS, in that order (JSON keys are
        strings already)."""
        return cls(*(Counter(v) if isinstance(v, dict) else v for v in values))

    @classmethod
    def from_rollup(cls, row: DailyRollup) -> Figures:
        return cls.from_values(getattr(row, name) for name in FIGURE_FIELDS)

    def as_model_fields(self) -> dict:
        return {
            f.name: dict(getattr(self, f.name)) if f.default_factory is Counter else getattr(self, f.name)
            for f in fields(self)
        }


FIGURE_FIELDS = tuple(f.name for f in fields(Figures))
_COUNTERS = tuple(f.name for f in fields(Figures) if f.default_factory is Counter)
_NUMBERS = tuple(name for name in FIGURE_FIELDS if name not in _COUNTERS)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _visitor_key(visitor: str, conversation_id) -> str:
    # A conversation without a visitor id counts as a visitor of its own.
    return f"v:{visitor}" if visitor else f"c:{conversation_id}"


def window_figures(start: datetime, end: datetime, *, chatbot_id: int | None = None) -> dict[Key, Figures]:
    """The figures of [start, end) per (chatbot pk, flow), from the raw rows; flow "" = all."""
    return {
        (chatbot, flow): figures for (chatbot, flow, _), figures in _figures(start, end, chatbot_id).items()
    }


def window_figures_by_day(
    start: datetime, end: datetime, *, chatbot_id: int
) -> dict[date, dict[str, Figures]]:
    """One chatbot's figures of [start, end) per UTC day and flow, in one pass over the rows."""
    out: dict[date, dict[str, Figures]] = {}
    for (_, flow, day), figures in _figures(start, end, chatbot_id, by_day=True).items():
        out.setdefault(day, {})[flow] = figures
    return out


def _figures(start: datetime, end: datetime, chatbot_id: int | None, *, by_day: bool = False) -> dict:
    out: dict[tuple, Figures] = {}

    def get(chatbot: int, moment, flow: str = ALL_FLOWS) -> Figures:
        key = (
            chatbot,
            flow,
            (moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment) if by_day else None,
        )
        if key not in out:
            out[key] = Figures()
        return out[key]

    def scoped(queryset, chatbot_field: str = "chatbot_id"):
        return queryset if chatbot_id is None else queryset.filter(**{chatbot_field: chatbot_id})

    def grouped(queryset, chatbot_field: str, field_name: str):
        """(chatbot, day or None, value of `field_name`, count) tuples; a chatbot's own rows are
        not joined to find whose they are."""
        day = TruncDate("created_at", tzinfo=UTC) if by_day else Value(None, output_field=DateField())
        counts = queryset.annotate(bucket=day)
        if chatbot_id is not None:
            rows = counts.values_list("bucket", field_name).annotate(n=Count("pk"))
            return [(chatbot_id, *row) for row in rows]
        return counts.values_list(chatbot_field, "bucket", field_name).annotate(n=Count("pk"))

    score = ConversationInsight.objects.filter(conversation_id=OuterRef("conversation_id")).values("score")[
        :1
    ]
    answers = scoped(ProcessingMetrics.objects.filter(created_at__gte=start, created_at__lt=end))
    rows = answers.annotate(conversation_score=Subquery(score)).values_list(
        "chatbot_id",
        "created_at",
        "flow",
        "status",
        "not_found",
        "ttft_ms",
        "tokens_per_s",
        "output_tokens",
        "conversation_score",
    )
    for (
        chatbot,
        created_at,
        flow,
        status,
        not_found,
        ttft_ms,
        tokens_per_s,
        output_tokens,
        conversation_score,
    ) in rows.iterator(chunk_size=5000):
        for figures in (get(chatbot, created_at), get(chatbot, created_at, flow or NO_FLOW)):
            figures.answers += 1
            figures.errors += status in ERROR_STATUSES
            figures.stopped += status == "stopped"
            figures.not_found += bool(not_found)
            if ttft_ms is not None:
                figures.ttft_sum_ms += ttft_ms
                figures.ttft_count += 1
                figures.ttft_histogram[str(ttft_bucket(ttft_ms))] += 1
            if tokens_per_s is not None:
                figures.tokens_per_s_sum += tokens_per_s
                figures.tokens_per_s_count += 1
            figures.output_tokens += output_tokens or 0
            if conversation_score is not None:
                figures.answer_score_sum += conversation_score
                figures.answer_score_count += 1

    visitors: dict[tuple, set[str]] = {}
    insights = scoped(ConversationInsight.objects.filter(started_at__gte=start, started_at__lt=end))
    for (
        chatbot,
        started_at,
        conversation_id,
        visitor,
        topic,
        conversation_score,
        resolution,
    ) in insights.values_list(
        "chatbot_id", "started_at", "conversation_id", "visitor", "topic", "score", "resolution"
    ).iterator(chunk_size=5000):
        figures = get(chatbot, started_at)
        figures.conversations += 1
        visitors.setdefault(id(figures), set()).add(_visitor_key(visitor, conversation_id))
        figures.unique_visitors = len(visitors[id(figures)])
        figures.topics[topic] += 1
        if conversation_score is not None:
            figures.score_sum += conversation_score
            figures.score_count += 1
            figures.score_counts[str(conversation_score)] += 1
        attribute = f"resolution_{resolution}"
        if hasattr(figures, attribute):
            setattr(figures, attribute, getattr(figures, attribute) + 1)

    messages = Message.objects.filter(created_at__gte=start, created_at__lt=end)
    if chatbot_id is not None:
        # One chatbot's messages through its conversations touched since `start` (every answer's
        # write moves `updated_at`), not the whole window's messages of every chatbot.
        # The ids as a list: their messages are then read through the conversation index, which
        # the planner does not choose for a subquery (it scans the window's messages instead).
        touched = Conversation.objects.filter(chatbot_id=chatbot_id, updated_at__gte=start)
        messages = messages.filter(conversation_id__in=list(touched.values_list("pk", flat=True)))
    for chatbot, day, role, count in grouped(messages, "conversation__chatbot_id", "role"):
        figures = get(chatbot, day)
        figures.messages += count
        if role == Message.Role.USER:
            figures.questions += count

    ratings = scoped(AnswerRating.objects.filter(created_at__gte=start, created_at__lt=end))
    for chatbot, day, value, count in grouped(ratings, "chatbot_id", "value"):
        if value in ("up", "down"):
            figures = get(chatbot, day)
            setattr(figures, f"ratings_{value}", getattr(figures, f"ratings_{value}") + count)

    lookups = scoped(OrderLookup.objects.filter(created_at__gte=start, created_at__lt=end))
    for chatbot, day, outcome, count in grouped(lookups, "chatbot_id", "outcome"):
        get(chatbot, day).order_lookups[outcome] += count
    return out


def day_rollup(day: date) -> int:
    """Rebuild one day's rollup rows for every chatbot from the raw rows; returns the row count."""
    start, end = day_bounds(day)
    rows = [
        DailyRollup(chatbot_id=chatbot, day=day, flow=flow, **figures.as_model_fields())
        for (chatbot, flow), figures in window_figures(start, end).items()
    ]
    with transaction.atomic():
        DailyRollup.objects.filter(day=day).delete()
        DailyRollup.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def oldest_complete_day(now: datetime | None = None) -> date:
    """The first day the retention cleanup has not touched: older days keep their rollups,
    which a rebuild from what remains of their rows would shrink."""
    now = now or timezone.now()
    return (now - timedelta(days=retention_days())).date() + timedelta(days=1)


def retention_days() -> int:
    # ANALYTICS_RETENTION_DAYS governs the raw analytics rows (analytics/retention.py).
    return getattr(settings, "ANALYTICS_RETENTION_DAYS", settings.RETENTION_DAYS)


def days_pending(since: datetime | None, now: datetime | None = None) -> list[date]:
    """Yesterday, today, and the days whose rows were written or changed since `since` (all
    days within retention when None)."""
    now = now or timezone.now()
    oldest = oldest_complete_day(now)
    today = now.date()
    if since is None:
        return [oldest + timedelta(days=n) for n in range((today - oldest).days + 1)]
    since = since - LATE_MARGIN
    days = {today, today - timedelta(days=1)}
    # Every write of an insight (counters, resolution, topic and score) moves its `updated_at`.
    days.update(_dates(ConversationInsight.objects.filter(updated_at__gte=since), "started_at"))
    days.update(_dates(AnswerRating.objects.filter(updated_at__gte=since), "created_at"))
    days.update(_dates(ProcessingMetrics.objects.filter(created_at__gte=since), "created_at"))
    # A score given late changes the per-flow averages of the days its conversation's answers fell on.
    rescored = ConversationInsight.objects.filter(analysed_at__gte=since).values("conversation_id")
    days.update(_dates(ProcessingMetrics.objects.filter(conversation_id__in=rescored), "created_at"))
    days.update(_dates(OrderLookup.objects.filter(created_at__gte=since), "created_at"))
    return sorted(day for day in days if oldest <= day <= today)


def _dates(queryset, field_name: str) -> Iterable[date]:
    return (moment.date() for moment in queryset.datetimes(field_name, "day", tzinfo=UTC))


def analytics_rollup(
    *,
    day_from: date | None = None,
    day_to: date | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> dict:
    """Rebuild the rollups of [day_from, day_to] (days before retention's cut are skipped), or,
    with neither given, of the days that changed since the last run."""
    started = timezone.now()
    if day_from is None and day_to is None:
        checkpoint = AggregateCheckpoint.objects.filter(name=CHECKPOINT).first()
        days = days_pending(checkpoint.at if checkpoint else None, started)
    else:
        first = max(day_from or date.min, oldest_complete_day(started))
        last = min(day_to or started.date(), started.date())
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    rows = 0
    for done, day in enumerate(days, start=1):
        rows += day_rollup(day)
        if progress is not None:
            progress(int(done * 100 / len(days)), f"{day.isoformat()} rolled up")
    if day_from is None and day_to is None:
        AggregateCheckpoint.objects.update_or_create(name=CHECKPOINT, defaults={"at": started})
    return {"days": [day.isoformat() for day in days], "rows": rows}
