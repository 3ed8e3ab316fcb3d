"""Writes of the tutor's core records (sessions, the interaction log)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

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


@transaction.atomic
def session_create(*, learner: AbstractBaseUser, title: str, goal: str = "") -> StudySession:
    session = StudySession.objects.create(learner=learner, title=title, goal=goal)
    log_interaction(learner, "session_created", session=session)
    return session


@transaction.atomic
def session_update(*, session: StudySession, **changes: str) -> StudySession:
    """Change the title and/or goal (the only fields a learner edits)."""
    fields = [name for name in ("title", "goal") if name in changes]
    if not fields:
        return session
    for name in fields:
        setattr(session, name, changes[name])
    session.save(update_fields=[*fields, "updated_at"])
    log_interaction(session.learner, "session_updated", session=session, fields=fields)
    return session


@transaction.atomic
def session_archive(*, session: StudySession) -> StudySession:
    """Archive the session (idempotent: archiving again keeps the first time)."""
    if session.archived_at is None:
        session.archived_at = timezone.now()
        session.save(update_fields=["archived_at", "updated_at"])
        log_interaction(session.learner, "session_archived", session=session)
    return session
