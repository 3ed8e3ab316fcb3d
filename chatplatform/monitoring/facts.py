"""Figures that apps contribute to health snapshots, such as the chat's error rate.

chatplatform imports no app, so apps register their facts here (from `AppConfig.ready()`):

    register_fact("active_chats", fn)   # fn(since: datetime) -> number (or None: no data)
"""

import logging
from collections.abc import Callable
from datetime import datetime

logger = logging.getLogger(__name__)

Fact = Callable[[datetime], float | int | None]

_facts: dict[str, Fact] = {}


def register_fact(name: str, fn: Fact) -> None:
    """Register (or replace) the fact `name`; registering twice keeps the last."""
    _facts[name] = fn


def registered_facts() -> dict[str, Fact]:
    return dict(_facts)


def facts_collect(since: datetime) -> dict[str, float | int | None]:
    """Every registered fact's value for the window from `since`; a fact that fails is None."""
    values: dict[str, float | int | None] = {}
    for name, fn in _facts.items():
        try:
            values[name] = fn(since)
        except Exception:
            logger.exception("Health fact %s failed", name)
            values[name] = None
    return values
