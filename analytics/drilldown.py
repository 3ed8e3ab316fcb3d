"""The conversations behind a dashboard figure: the same window plus figure filters.

Conversation filters (`topic`, `analysed`, `scored`, `score_min`/`score_max`, `resolution`) apply
to the conversations that started in the window, as the dashboard counts them. Event filters
(`answered`, `flow`, `status`, `error`, `stopped`, `not_found`, `rating`, `order_lookup`) select
the conversations with such an answer, rating or lookup in the window, whenever they started, as
the dashboard counts those events; `false` excludes them instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Avg, Count, Max, Q, QuerySet, Sum
from django.urls import reverse

from analytics.models import AnswerRating, ConversationInsight, ProcessingMetrics
from analytics.rollups import ERROR_STATUSES, NO_FLOW
from analytics.windows import Window
from conversations.models import ChatbotSettings
from tracking.models import OrderLookup

EVENT_FILTERS = ("answered", "flow", "status", "error", "stopped", "not_found", "rating", "order_lookup")


def drilldown_url(chatbot: ChatbotSettings, window: Window, **filters) -> str:
    query = {
        "chatbot": chatbot.chatbot_id,
        **window.params,
        **{k: v for k, v in filters.items() if v is not None},
    }
    return f"{reverse('analytics-conversations')}?{urlencode(query)}"


@dataclass(frozen=True)
class Filters:
    topic: str | None = None
    analysed: bool | None = None
    scored: bool | None = None
    score_min: int | None = None
    score_max: int | None = None
    resolution: str | None = None
    answered: bool | None = None
    flow: str | None = None
    status: str | None = None
    error: bool | None = None
    stopped: bool | None = None
    not_found: bool | None = None
    rating: str | None = None
    order_lookup: str | None = None


def _answers(chatbot: ChatbotSettings, window: Window) -> QuerySet:
    return ProcessingMetrics.objects.filter(
        chatbot=chatbot, created_at__gte=window.start, created_at__lt=window.end
    )


def _event_sets(chatbot: ChatbotSettings, window: Window, filters: Filters) -> list[tuple[QuerySet, bool]]:
    """(conversation ids with the event, wanted?) per event filter given."""
    sets: list[tuple[QuerySet, bool]] = []
    answer_conditions = Q()
    answer_flags = []
    if filters.flow is not None:
        answer_conditions &= Q(flow="") if filters.flow == NO_FLOW else Q(flow=filters.flow)
    if filters.status is not None:
        answer_conditions &= Q(status=filters.status)
    if answer_conditions or filters.answered is not None:
        sets.append((_answers(chatbot, window).filter(answer_conditions), filters.answered is not False))
    for flag, condition in (
        (filters.error, Q(status__in=ERROR_STATUSES)),
        (filters.stopped, Q(status="stopped")),
        (filters.not_found, Q(not_found=True)),
    ):
        if flag is not None:
            answer_flags.append((_answers(chatbot, window).filter(answer_conditions & condition), flag))
    sets.extend(answer_flags)
    if filters.rating is not None:
        ratings = AnswerRating.objects.filter(
            chatbot=chatbot, created_at__gte=window.start, created_at__lt=window.end, value=filters.rating
        )
        sets.append((ratings, True))
    if filters.order_lookup is not None:
        lookups = OrderLookup.objects.filter(
            chatbot=chatbot,
            created_at__gte=window.start,
            created_at__lt=window.end,
            outcome=filters.order_lookup,
        )
        sets.append((lookups, True))
    return [(queryset.values("conversation_id"), wanted) for queryset, wanted in sets]


def conversations_query(chatbot: ChatbotSettings, window: Window, filters: Filters) -> QuerySet:
    """The insights of the conversations behind the figure, newest first."""
    insights = ConversationInsight.objects.filter(chatbot=chatbot)
    events = _event_sets(chatbot, window, filters)
    if not any(wanted for _, wanted in events):
        insights = insights.filter(started_at__gte=window.start, started_at__lt=window.end)
    for ids, wanted in events:
        insights = (
            insights.filter(conversation_id__in=ids) if wanted else insights.exclude(conversation_id__in=ids)
        )
    if filters.topic is not None:
        insights = insights.filter(topic=filters.topic)
    if filters.analysed is not None:
        insights = insights.exclude(topic="") if filters.analysed else insights.filter(topic="")
    if filters.scored is not None:
        insights = insights.filter(score__isnull=not filters.scored)
    if filters.score_min is not None:
        insights = insights.filter(score__gte=filters.score_min)
    if filters.score_max is not None:
        insights = insights.filter(score__lte=filters.score_max)
    if filters.resolution == "resolved":
        insights = insights.filter(resolution__in=("confirmed", "assumed"))
    elif filters.resolution is not None:
        insights = insights.filter(resolution=filters.resolution)
    return insights.order_by("-started_at", "-pk")


def answer_metrics(conversation_ids: list) -> dict:
    """Per conversation: its answers' count, errors, TTFT, speed, tokens and flows (all time)."""
    if not conversation_ids:
        return {}
    rows = (
        ProcessingMetrics.objects.filter(conversation_id__in=conversation_ids)
        .values("conversation_id")
        .annotate(
            answers_n=Count("id"),
            errors_n=Count("id", filter=Q(status__in=ERROR_STATUSES)),
            ttft_mean=Avg("ttft_ms"),
            ttft_max=Max("ttft_ms"),
            speed_mean=Avg("tokens_per_s"),
            total_mean=Avg("total_ms"),
            tokens=Sum("output_tokens"),
        )
    )
    flows: dict = defaultdict(set)
    for conversation_id, flow in (
        ProcessingMetrics.objects.filter(conversation_id__in=conversation_ids)
        .values_list("conversation_id", "flow")
        .distinct()
    ):
        flows[conversation_id].add(flow or NO_FLOW)
    return {
        row["conversation_id"]: {
            "answers": row["answers_n"],
            "errors": row["errors_n"],
            "ttft_mean_ms": _round(row["ttft_mean"]),
            "ttft_max_ms": _round(row["ttft_max"]),
            "tokens_per_s_mean": _round(row["speed_mean"]),
            "total_mean_ms": _round(row["total_mean"]),
            "output_tokens": row["tokens"] or 0,
            "flows": sorted(flows[row["conversation_id"]]),
        }
        for row in rows
    }


def _round(value):
    return None if value is None else round(value, 1)


EMPTY_METRICS = {
    "answers": 0,
    "errors": 0,
    "ttft_mean_ms": None,
    "ttft_max_ms": None,
    "tokens_per_s_mean": None,
    "total_mean_ms": None,
    "output_tokens": 0,
    "flows": [],
}


def conversation_row(insight: ConversationInsight, metrics: dict) -> dict:
    return {
        "id": str(insight.conversation_id),
        "started_at": insight.started_at.isoformat(),
        "last_message_at": insight.last_message_at.isoformat(),
        "questions": insight.questions,
        "answers": insight.answers,
        "topic": insight.topic,
        "score": insight.score,
        "score_reason": insight.score_reason,
        "judged_by": insight.judged_by,
        "resolution": insight.resolution,
        "resolved_at": insight.resolved_at.isoformat() if insight.resolved_at else None,
        "ratings_up": insight.ratings_up,
        "ratings_down": insight.ratings_down,
        "stopped_answers": insight.stopped_answers,
        "not_found_answers": insight.not_found_answers,
        "failed_order_lookups": insight.failed_order_lookups,
        "metrics": metrics.get(insight.conversation_id, EMPTY_METRICS),
    }


def rows_with_metrics(insights: list[ConversationInsight]) -> list[dict]:
    metrics = answer_metrics([insight.conversation_id for insight in insights])
    return [conversation_row(insight, metrics) for insight in insights]


def conversation_rows(insights: QuerySet, *, batch: int = 500) -> Iterator[dict]:
    """Every row of `insights` (ordered newest first) in batches, each with its answers' metrics:
    a batch is one keyset query and one metrics query, so an export of any size streams."""
    last = None
    while True:
        page = insights
        if last is not None:
            page = page.filter(
                Q(started_at__lt=last.started_at) | Q(started_at=last.started_at, pk__lt=last.pk)
            )
        rows = list(page[:batch])
        if not rows:
            return
        yield from rows_with_metrics(rows)
        last = rows[-1]
        if len(rows) < batch:
            return
