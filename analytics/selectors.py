"""The dashboard's figures for one chatbot and window: stored rollups for complete days, the raw
rows for the rest (analytics/windows.py), token usage and cost from the telemetry's aggregates.
Every figure carries the URL of the conversations behind it (analytics/drilldown.py)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum

from analytics.drilldown import drilldown_url
from analytics.models import ConversationInsight, DailyRollup
from analytics.rollups import ALL_FLOWS, FIGURE_FIELDS, Figures, histogram_percentile, window_figures_by_day
from analytics.windows import Segment, Window
from chatplatform.telemetry.aggregates import cost_of, llm_prices
from chatplatform.telemetry.models import CallRecord, DailyAggregate
from conversations.models import ChatbotSettings

RESOLUTIONS = ("confirmed", "assumed", "unresolved", "open")


def _mean(total: float, count: int) -> float | None:
    return total / count if count else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def segment_figures(chatbot: ChatbotSettings, window: Window) -> list[tuple[Segment, dict[str, Figures]]]:
    """Each segment's figures per flow ("" = all flows): stored days from their rollups, the live
    segments (contiguous, at the window's end) from the raw rows in one pass."""
    by_day: dict = defaultdict(dict)
    rows = DailyRollup.objects.filter(chatbot=chatbot, day__in=window.stored_days)
    for day, flow, *values in rows.values_list("day", "flow", *FIGURE_FIELDS):
        by_day[day][flow] = Figures.from_values(values)
    live = window.live_segments
    if live:
        by_day.update(window_figures_by_day(live[0].start, live[-1].end, chatbot_id=chatbot.pk))
    return [(segment, by_day.get(segment.day, {})) for segment in window.segments]


def unique_visitors(chatbot: ChatbotSettings, window: Window) -> int:
    """Visitors of the conversations started in the window, counted once across its days (a
    conversation without a visitor id counts as one)."""
    insights = ConversationInsight.objects.filter(
        chatbot=chatbot, started_at__gte=window.start, started_at__lt=window.end
    )
    # Only indexed columns (chatbot, started_at, visitor): PostgreSQL counts from the index alone.
    counts = insights.aggregate(
        known=Count("visitor", distinct=True, filter=~Q(visitor="")),
        anonymous=Count("visitor", filter=Q(visitor="")),
    )
    return counts["known"] + counts["anonymous"]


def token_usage(chatbot: ChatbotSettings, window: Window) -> tuple[list[dict], dict]:
    """Calls, tokens and estimated cost by model and feature (stored days from the telemetry's
    daily aggregates, live segments from its call records), and the cost per segment day."""
    groups: dict[tuple[str, str], dict] = {}
    cost_by_day: dict = defaultdict(Decimal)

    def add(model: str, feature: str, calls: int, input_tokens: int, output_tokens: int, cost: Decimal):
        group = groups.setdefault(
            (model, feature),
            {
                "model": model,
                "feature": feature,
                "calls": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "cost": Decimal(0),
            },
        )
        group["calls"] += calls
        group["input_tokens"] += input_tokens
        group["output_tokens"] += output_tokens
        group["cost"] += cost

    tenant = {"tenant_type": "chatbot", "tenant_id": chatbot.chatbot_id}
    aggregates = (
        DailyAggregate.objects.filter(day__in=window.stored_days, **tenant)
        .values("day", "model", "feature")
        .annotate(
            calls_sum=Sum("calls"),
            input_sum=Sum("input_tokens"),
            output_sum=Sum("output_tokens"),
            cost_sum=Sum("estimated_cost_usd"),
        )
    )
    for row in aggregates:
        add(
            row["model"],
            row["feature"],
            row["calls_sum"],
            row["input_sum"],
            row["output_sum"],
            row["cost_sum"],
        )
        cost_by_day[row["day"]] += row["cost_sum"]
    prices = llm_prices() if window.live_segments else {}
    for segment in window.live_segments:
        live: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        records = CallRecord.objects.filter(
            day__in={segment.start.date(), segment.day},
            started_at__gte=segment.start,
            started_at__lt=segment.end,
            **tenant,
        ).values_list("request_model", "response_model", "feature", "input_tokens", "output_tokens")
        for request_model, response_model, feature, input_tokens, output_tokens in records:
            counts = live[(request_model or response_model, feature)]
            counts[0] += 1
            counts[1] += input_tokens or 0
            counts[2] += output_tokens or 0
        for (model, feature), (calls, input_tokens, output_tokens) in live.items():
            cost = cost_of(model, input_tokens, output_tokens, prices)
            add(model, feature, calls, input_tokens, output_tokens, cost)
            cost_by_day[segment.day] += cost
    usage = sorted(groups.values(), key=lambda g: (-g["cost"], g["model"], g["feature"]))
    return usage, cost_by_day


def _flow_row(chatbot: ChatbotSettings, window: Window, flow: str, figures: Figures) -> dict:
    link = drilldown_url(chatbot, window, flow=flow)
    return {
        "flow": flow,
        "answers": figures.answers,
        "ttft_p50_ms": histogram_percentile(figures.ttft_histogram, 0.5),
        "ttft_p95_ms": histogram_percentile(figures.ttft_histogram, 0.95),
        "tokens_per_s": _round(_mean(figures.tokens_per_s_sum, figures.tokens_per_s_count)),
        "errors": figures.errors,
        "error_rate": _round(_mean(figures.errors, figures.answers), 4),
        "stopped_answers": figures.stopped,
        "average_score": _round(_mean(figures.answer_score_sum, figures.answer_score_count)),
        "drilldown": link,
        "errors_drilldown": drilldown_url(chatbot, window, flow=flow, error="true"),
    }


def flows_table(chatbot: ChatbotSettings, window: Window, segments=None) -> list[dict]:
    """The per-flow table: answers, TTFT p50/p95, tokens/s, errors and average score per flow."""
    segments = segment_figures(chatbot, window) if segments is None else segments
    totals: dict[str, Figures] = defaultdict(Figures)
    for _, flows in segments:
        for flow, figures in flows.items():
            if flow != ALL_FLOWS:
                totals[flow].add(figures)
    return [_flow_row(chatbot, window, flow, totals[flow]) for flow in sorted(totals)]


def _figure(value, url: str) -> dict:
    return {"value": value, "drilldown": url}


def dashboard(chatbot: ChatbotSettings, window: Window) -> dict:
    """Every figure of the dashboard for the window, with its drill-down URL and a daily series."""
    segments = segment_figures(chatbot, window)
    total = Figures()
    for _, flows in segments:
        if ALL_FLOWS in flows:
            total.add(flows[ALL_FLOWS])
    usage, cost_by_day = token_usage(chatbot, window)
    cost = sum((g["cost"] for g in usage), Decimal(0))
    resolved = total.resolution_confirmed + total.resolution_assumed

    def link(**filters) -> str:
        return drilldown_url(chatbot, window, **filters)

    return {
        "chatbot": chatbot.chatbot_id,
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat(), **window.params},
        "conversations": _figure(total.conversations, link()),
        "messages": _figure(total.messages, link()),
        "questions": _figure(total.questions, link()),
        "unique_visitors": _figure(unique_visitors(chatbot, window), link()),
        "answers": _figure(total.answers, link(answered="true")),
        "ttft_p50_ms": _figure(histogram_percentile(total.ttft_histogram, 0.5), link(answered="true")),
        "ttft_p95_ms": _figure(histogram_percentile(total.ttft_histogram, 0.95), link(answered="true")),
        "ttft_mean_ms": _figure(_round(_mean(total.ttft_sum_ms, total.ttft_count)), link(answered="true")),
        "tokens_per_s": _figure(
            _round(_mean(total.tokens_per_s_sum, total.tokens_per_s_count)), link(answered="true")
        ),
        "output_tokens": _figure(total.output_tokens, link(answered="true")),
        "errors": _figure(total.errors, link(error="true")),
        "error_rate": _figure(_round(_mean(total.errors, total.answers), 4), link(error="true")),
        "stopped_answers": _figure(total.stopped, link(stopped="true")),
        "not_found_answers": _figure(total.not_found, link(not_found="true")),
        "average_score": _figure(_round(_mean(total.score_sum, total.score_count)), link(scored="true")),
        "scores": [
            {
                "score": score,
                "conversations": total.score_counts.get(str(score), 0),
                "drilldown": link(score_min=score, score_max=score),
            }
            for score in range(1, 11)
        ],
        "topics": [
            {
                "topic": topic,
                "conversations": count,
                "drilldown": link(topic=topic) if topic else link(analysed="false"),
            }
            for topic, count in sorted(total.topics.items(), key=lambda item: (-item[1], item[0]))
        ],
        "resolution": {
            name: _figure(getattr(total, f"resolution_{name}"), link(resolution=name)) for name in RESOLUTIONS
        },
        "ratings": {
            value: _figure(getattr(total, f"ratings_{value}"), link(rating=value)) for value in ("up", "down")
        },
        "order_lookups": {
            outcome: _figure(count, link(order_lookup=outcome))
            for outcome, count in sorted(total.order_lookups.items())
        },
        "flows": flows_table(chatbot, window, segments),
        "token_usage": [
            {
                **{k: v for k, v in group.items() if k != "cost"},
                "cost_usd": float(group["cost"]),
                "drilldown": link(answered="true"),
            }
            for group in usage
        ],
        "cost_usd": _figure(float(cost), link(answered="true")),
        "cost_per_resolved_conversation_usd": _figure(
            float(cost / resolved) if resolved else None, link(resolution="resolved")
        ),
        "series": [
            _series_point(segment, flows.get(ALL_FLOWS, Figures()), cost_by_day)
            for segment, flows in segments
        ],
    }


def _series_point(segment: Segment, figures: Figures, cost_by_day: dict) -> dict:
    return {
        "day": segment.day.isoformat(),
        "from": segment.start.isoformat(),
        "to": segment.end.isoformat(),
        "conversations": figures.conversations,
        "answers": figures.answers,
        "messages": figures.messages,
        "unique_visitors": figures.unique_visitors,
        "errors": figures.errors,
        "stopped_answers": figures.stopped,
        "not_found_answers": figures.not_found,
        "ttft_p50_ms": histogram_percentile(figures.ttft_histogram, 0.5),
        "ttft_p95_ms": histogram_percentile(figures.ttft_histogram, 0.95),
        "tokens_per_s": _round(_mean(figures.tokens_per_s_sum, figures.tokens_per_s_count)),
        "average_score": _round(_mean(figures.score_sum, figures.score_count)),
        "resolved": figures.resolution_confirmed + figures.resolution_assumed,
        "ratings_up": figures.ratings_up,
        "ratings_down": figures.ratings_down,
        "cost_usd": float(cost_by_day.get(segment.day, Decimal(0))),
    }
