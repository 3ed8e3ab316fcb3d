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
from django.db import IntegrityError, connections, transaction
from django.db.models import QuerySet
from django.db.models.deletion import Collector, get_candidate_relations_to_delete

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
    delete transaction (its locks) lasted."""

    stage: str
    rows: int
    seconds: float


def delete_in_batches(
    stage: str,
    queryset: QuerySet,
    *,
    batch_size: int | None = None,
    on_batch: Callable[[Batch], None] | None = None,
    single_statement: bool = False,
) -> int:
    """Delete `queryset`'s rows `batch_size` ids at a time (RETENTION_BATCH_SIZE by default);
    returns the rows deleted, cascades included.

    A batch is Django's own delete split in two: finding the rows and what cascades from them
    (reads, which lock nothing), then deleting them in one short transaction, the only time locks
    are held and what `on_batch` is told. With `single_statement` the caller has deleted what
    refers to these rows already: each batch is one DELETE, without Django reading the rows
    first; a batch that something still refers to is deleted Django's way instead."""
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    model = queryset.model
    using = queryset.db
    total = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return total
        rows = None
        if single_statement and not _referred_to(model, ids, using):
            started = time.perf_counter()
            try:
                with transaction.atomic(using=using):
                    rows = _delete_statement(model, ids, using)
            except IntegrityError:  # a reference arrived meanwhile
                rows = None
        if rows is None:
            batch = model._base_manager.using(using).filter(pk__in=ids)
            collector = Collector(using=using, origin=batch)
            collector.collect(batch)
            started = time.perf_counter()
            rows, _ = collector.delete()
        total += rows
        if on_batch is not None:
            on_batch(Batch(stage=stage, rows=rows, seconds=time.perf_counter() - started))
        if len(ids) < batch_size:
            return total


def _referred_to(model, ids: list, using: str) -> bool:
    """Whether any row of another table (or the same) still refers to one of these rows."""
    return any(
        relation.related_model._base_manager.using(using)
        .filter(**{f"{relation.field.name}__in": ids})
        .exists()
        for relation in get_candidate_relations_to_delete(model._meta)
    )


def ids_condition(connection, column: str, values: list) -> tuple[str, list]:
    """SQL saying that the (quoted) `column` is one of `values` (prepared for the database):
    one array parameter on PostgreSQL, so that every batch is the same statement; a list of
    parameters elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _delete_statement(model, ids: list, using: str) -> int:
    connection = connections[using]
    pk = model._meta.pk
    values = [pk.get_db_prep_value(value, connection) for value in ids]
    table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(pk.column)
    condition, params = ids_condition(connection, column, values)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {condition}", params)  # noqa: S608
        return cursor.rowcount
