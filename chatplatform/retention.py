"""Retention: apps register cleaners, the `retention_cleanup` job kind runs them all.

    from chatplatform.retention import register_cleaner
    register_cleaner("telemetry records", fn)   # fn(older_than: datetime) -> int rows deleted

The cut-off is RETENTION_DAYS before now; a cleaner with a retention of its own (images:
IMAGE_RETENTION_DAYS) may apply that one instead and say so in its name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

logger = logging.getLogger(__name__)

Cleaner = Callable[[datetime], int]

_cleaners: dict[str, Cleaner] = {}


def register_cleaner(name: str, fn: Cleaner) -> None:
    """Register (or replace) the cleaner `name`."""
    _cleaners[name] = fn


def cleaners() -> dict[str, Cleaner]:
    return dict(_cleaners)


def retention_cleanup(
    *, older_than: datetime, progress: Callable[[int, str], None] | None = None
) -> dict[str, int]:
    """Run every cleaner; return the rows each deleted. A failing cleaner does not stop the others;
    it is logged and reported as -1, and the run fails at the end so that it is retried."""
    deleted: dict[str, int] = {}
    failed: list[str] = []
    names = sorted(_cleaners)
    for done, name in enumerate(names):
        if progress is not None:
            progress(done * 100 // max(len(names), 1), name)
        try:
            deleted[name] = int(_cleaners[name](older_than))
        except Exception:
            logger.exception("Retention cleaner %r failed", name)
            deleted[name] = -1
            failed.append(name)
    if failed:
        from chatplatform.jobs.errors import JobError

        raise JobError(
            "cleaner_failed", f"Cleaners failed: {', '.join(failed)}; the others ran.", transient=True
        )
    return deleted
