"""Retention: apps register cleaners, the `retention_cleanup` job kind runs them all.

    from chatplatform.retention import register_cleaner
    register_cleaner("telemetry records", fn)   # fn(older_than: datetime) -> int rows deleted

The cut-off is RETENTION_DAYS before now; a cleaner with a retention of its own (images:
IMAGE_RETENTION_DAYS) may apply that one instead and say so in its name. Large tables delete
with `delete_in_batches`, so that no lock is held long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

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


@dataclass(frozen=True)
class Batch:
    """One batch of a cleaner: which rows, how many went (cascades included), and how long its
    transaction (its locks) lasted."""

    stage: str
    rows: int
    seconds: float


def delete_in_batches(
    stage: str,
    queryset: QuerySet,
    *,
    batch_size: int | None = None,
    on_batch: Callable[[Batch], None] | None = None,
) -> int:
    """Delete `queryset`'s rows `batch_size` ids at a time (RETENTION_BATCH_SIZE by default), each
    batch its own short transaction, so that no lock is held long; returns the rows deleted."""
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    model = queryset.model
    total = 0
    while True:
        started = time.perf_counter()
        with transaction.atomic():
            ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
            if not ids:
                return total
            _, per_model = model.objects.filter(pk__in=ids).delete()
        rows = sum(per_model.values())
        total += rows
        if on_batch is not None:
            on_batch(Batch(stage=stage, rows=rows, seconds=time.perf_counter() - started))
        if len(ids) < batch_size:
            return total
