"""Writes of the tutor's core records (sessions, the interaction log)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from tutor.models import InteractionLog, StudySession

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def log_interaction(
    learner: AbstractBaseUser,
    kind: str,
    *,
    session: StudySession | None = None,
    **data: Any,
) -> InteractionLog:
    """Record one thing a learner did; every part of the tutor calls this.

    `data` must be JSON-serialisable and hold no personal data (ids, counts, scores, terms).
    """
    if not _KIND.match(kind):
        raise ValueError(f"Interaction kind must be snake_case, not {kind!r}.")
    if session is not None and session.learner_id != learner.pk:
        raise ValueError("The session belongs to another learner.")
    return InteractionLog.objects.create(learner=learner, session=session, kind=kind, data=data)
