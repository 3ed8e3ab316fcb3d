"""The dashboard's figures recomputed from the raw rows, independently of analytics/rollups.py and
analytics/selectors.py: one plain query per figure, percentiles by nearest rank on the sorted
values, then rounded up to the 1 % bucket edge the dashboard documents."""

import math
from collections import Counter
from datetime import datetime

from analytics.models import AnswerRating, ConversationInsight, ProcessingMetrics
from conversations.models import Message
from tracking.models import OrderLookup


def bucket_edge(ms: float) -> float:
    bucket = 0 if ms <= 1 else math.ceil(math.log(ms) / math.log(1.01))
    return round(1.01**bucket, 1)


def nearest_rank(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return bucket_edge(ordered[max(1, math.ceil(q * len(ordered))) - 1])


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def figures(chatbot, start: datetime, end: datetime) -> dict:
    answers = list(
        ProcessingMetrics.objects.filter(chatbot=chatbot, created_at__gte=start, created_at__lt=end)
    )
    insights = list(
        ConversationInsight.objects.filter(chatbot=chatbot, started_at__gte=start, started_at__lt=end)
    )
    ttfts = [a.ttft_ms for a in answers if a.ttft_ms is not None]
    speeds = [a.tokens_per_s for a in answers if a.tokens_per_s is not None]
    scores = [i.score for i in insights if i.score is not None]
    errors = sum(a.status in ("failed", "interrupted") for a in answers)
    visitors = {i.visitor or f"conversation {i.conversation_id}" for i in insights}
    messages = Message.objects.filter(
        conversation__chatbot=chatbot, created_at__gte=start, created_at__lt=end
    )
    ratings = AnswerRating.objects.filter(chatbot=chatbot, created_at__gte=start, created_at__lt=end)
    lookups = OrderLookup.objects.filter(chatbot=chatbot, created_at__gte=start, created_at__lt=end)
    resolution = Counter(i.resolution for i in insights)
    score_of = {i.conversation_id: i.score for i in ConversationInsight.objects.filter(chatbot=chatbot)}
    flows = {}
    for name in sorted({a.flow for a in answers}):
        mine = [a for a in answers if a.flow == name]
        flow_ttfts = [a.ttft_ms for a in mine if a.ttft_ms is not None]
        flow_scores = [
            score_of[a.conversation_id] for a in mine if score_of.get(a.conversation_id) is not None
        ]
        flows[name] = {
            "answers": len(mine),
            "ttft_p50_ms": nearest_rank(flow_ttfts, 0.5),
            "ttft_p95_ms": nearest_rank(flow_ttfts, 0.95),
            "tokens_per_s": _mean([a.tokens_per_s for a in mine if a.tokens_per_s is not None]),
            "errors": sum(a.status in ("failed", "interrupted") for a in mine),
            "average_score": _mean(flow_scores),
        }
    return {
        "answers": len(answers),
        "conversations": len(insights),
        "messages": messages.count(),
        "questions": messages.filter(role="user").count(),
        "unique_visitors": len(visitors),
        "ttft_p50_ms": nearest_rank(ttfts, 0.5),
        "ttft_p95_ms": nearest_rank(ttfts, 0.95),
        "tokens_per_s": _mean(speeds),
        "errors": errors,
        "error_rate": errors / len(answers) if answers else None,
        "stopped_answers": sum(a.status == "stopped" for a in answers),
        "not_found_answers": sum(a.not_found for a in answers),
        "output_tokens": sum(a.output_tokens or 0 for a in answers),
        "average_score": _mean(scores),
        "ttft_mean_ms": _mean(ttfts),
        "scores": [sum(score == n for score in scores) for n in range(1, 11)],
        "topics": dict(Counter(i.topic for i in insights)),
        "resolution": {
            name: resolution.get(name, 0) for name in ("open", "confirmed", "assumed", "unresolved")
        },
        "ratings": {"up": ratings.filter(value="up").count(), "down": ratings.filter(value="down").count()},
        "order_lookups": dict(Counter(lookups.values_list("outcome", flat=True))),
        "flows": flows,
    }
