"""The performance record of each answer (`ProcessingMetrics`), made from the answer as stored:
its status and error code, and the phases the pipeline timed into its `metrics` JSON.

Written after the answer's final write, by the `chat`-queue task that follows it
(`answers_recorded`); writing it again (a re-run task, the sweeper's late outcome) replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from analytics.insights import insights_refresh
from analytics.models import ProcessingMetrics
from chatplatform.ai.local import NOT_FOUND
from conversations.chat.models import Message

# What the local provider says when the knowledge base has nothing, and what LLMs say in its
# place; a reply opening with it is a "not found" reply.
_NOT_FOUND = re.compile(
    "|".join(
        [
            *(re.escape(text.rstrip(".")) for text in NOT_FOUND.values()),
            r"\b(?:could not|couldn't|can't|cannot|was unable to) find\b",
            r"\bI (?:do not|don't) have (?:any )?information\b",
            r"\b(?:kunne|kan) (?:jeg )?(?:desværre )?ikke finde\b",
            r"\bhar (?:desværre )?ikke (?:nogen )?information\b",
        ]
    ),
    re.IGNORECASE,
)
_NOT_FOUND_WINDOW = 200  # characters at the start of the answer that are searched

_UPDATED = [
    "chatbot",
    "conversation",
    "flow",
    "provider",
    "model",
    "route_ms",
    "retrieve_ms",
    "order_lookup_ms",
    "image_ms",
    "prompt_ms",
    "provider_ttft_ms",
    "stream_ms",
    "ttft_ms",
    "total_ms",
    "output_tokens",
    "tokens_per_s",
    "status",
    "error_code",
    "not_found",
    "created_at",
]


def is_not_found_reply(text: str) -> bool:
    """Whether an answer says the knowledge base had nothing on the question."""
    return bool(_NOT_FOUND.search(text[:_NOT_FOUND_WINDOW]))


def answers_metrics_record(answer_ids: Iterable) -> int:
    """Write (or rewrite) the performance records of these stored answers and refresh their
    conversations' insights; answers still streaming are left for later. Returns the records written."""
    answers = list(
        Message.objects.filter(id__in=list(answer_ids), role=Message.Role.ASSISTANT)
        .exclude(status=Message.Status.STREAMING)
        .select_related("conversation")
        .only(
            "id", "conversation__chatbot_id", "flow", "text", "status", "error_code", "metrics", "created_at"
        )
    )
    if not answers:
        return 0
    with transaction.atomic():
        ProcessingMetrics.objects.bulk_create(
            [processing_metrics_of(answer) for answer in answers],
            update_conflicts=True,
            unique_fields=["answer"],
            update_fields=_UPDATED,
        )
    insights_refresh({answer.conversation_id for answer in answers})
    return len(answers)


def answers_unrecorded(*, since: datetime, limit: int = 2000) -> list:
    """Finished answers since `since` without a record: those the sweeper finished, or whose
    record failed; the periodic refresh writes them."""
    return list(
        Message.objects.filter(
            role=Message.Role.ASSISTANT, created_at__gte=since, processing_metrics__isnull=True
        )
        .exclude(status=Message.Status.STREAMING)
        .values_list("id", flat=True)[:limit]
    )


def processing_metrics_of(answer: Message) -> ProcessingMetrics:
    metrics: dict[str, Any] = answer.metrics or {}
    provider = str(metrics.get("provider") or "")
    order_phases = [metrics[key] for key in ("extract_ms", "lookup_ms") if metrics.get(key) is not None]
    return ProcessingMetrics(
        chatbot_id=answer.conversation.chatbot_id,
        conversation_id=answer.conversation_id,
        answer_id=answer.id,
        flow=answer.flow,
        provider=provider,
        model=str(metrics.get("model") or _model_of(provider))[:100],
        route_ms=_ms(metrics, "route_ms"),
        retrieve_ms=_ms(metrics, "retrieve_ms"),
        order_lookup_ms=round(sum(order_phases), 2) if order_phases else None,
        image_ms=_ms(metrics, "image_description_ms"),
        prompt_ms=_ms(metrics, "prompt_ms"),
        # Fixed replies (order steps, notices) have no provider, so no provider phase.
        provider_ttft_ms=_ms(metrics, "provider_ttft_ms") if provider else None,
        stream_ms=_ms(metrics, "stream_ms"),
        ttft_ms=_ms(metrics, "ttft_ms"),
        total_ms=_ms(metrics, "total_ms"),
        output_tokens=_int(metrics.get("output_tokens")),
        tokens_per_s=_ms(metrics, "tokens_per_s"),
        status=answer.status,
        error_code=answer.error_code,
        not_found=answer.status == Message.Status.COMPLETED and is_not_found_reply(answer.text),
        created_at=answer.created_at,
    )


def _model_of(provider: str) -> str:
    # The pipeline names the provider; the model is the provider's configured chat model.
    if provider == "openai":
        return settings.OPENAI_CHAT_MODEL
    if provider == "local":
        return "extractive"
    return ""


def _ms(metrics: dict[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return (
        int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None
    )
