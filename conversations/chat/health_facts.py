"""The chat's figures for the platform's health snapshots (chatplatform.monitoring.facts)."""

from datetime import datetime

from chatplatform.monitoring.facts import register_fact
from conversations.chat.models import Message

FAILED_STATUSES = (Message.Status.FAILED, Message.Status.INTERRUPTED)


def answers(since: datetime) -> int:
    return Message.objects.filter(role=Message.Role.ASSISTANT, created_at__gte=since).count()


def error_rate(since: datetime) -> float | None:
    """Failed or interrupted answers of all answers begun since `since`; None without answers."""
    recent = Message.objects.filter(role=Message.Role.ASSISTANT, created_at__gte=since)
    total = recent.count()
    if not total:
        return None
    return round(recent.filter(status__in=FAILED_STATUSES).count() / total, 4)


def active_chats(since: datetime) -> int:
    """Conversations with a message since `since`."""
    return Message.objects.filter(created_at__gte=since).values("conversation_id").distinct().count()


def register() -> None:
    register_fact("answers", answers)
    register_fact("error_rate", error_rate)
    register_fact("active_chats", active_chats)
