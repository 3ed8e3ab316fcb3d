"""Plain INSERTs and UPDATEs of many rows, for the few writes on the answer path (`writes`).

The ORM costs too much there: `bulk_create` builds and prepares a model instance per row, and
an `update()` per row is a round trip per row. Statements are built first and run together: on
PostgreSQL as one statement (data-modifying `WITH`s), elsewhere one by one in a transaction.
"""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from django.db import connection, models, transaction

# Rows per call that keep a statement well under SQLite's 32766 and PostgreSQL's 65535
# parameters, at up to 16 values a row in up to 3 tables.
ROWS_PER_STATEMENT = 1000

T = TypeVar("T")


@dataclass(frozen=True)
class Statement:
    sql: str
    params: list[Any]


def uuid_param() -> Callable[[UUID], Any]:
    """How this database takes a UUID: as it is (PostgreSQL) or as 32 hex digits (SQLite)."""
    if connection.features.has_native_uuid_field:
        return lambda value: value
    return lambda value: value.hex


def in_statements(write: Callable[[Sequence[T]], None]) -> Callable[[Sequence[T]], None]:
    """`write` for any number of items: more than `ROWS_PER_STATEMENT` go in chunks of that many,
    all in one transaction."""

    @functools.wraps(write)
    def write_all(items: Sequence[T]) -> None:
        if len(items) <= ROWS_PER_STATEMENT:
            write(items)
            return
        with transaction.atomic():
            for start in range(0, len(items), ROWS_PER_STATEMENT):
                write(items[start : start + ROWS_PER_STATEMENT])

    return write_all


def insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple],
    *,
    constants: dict[str, str | int] | None = None,
) -> Statement | None:
    """INSERT `rows` (values of `fields`, in that order) into `model`'s table, with `constants`
    (fixed strings and integers of the code, never user input) as SQL literals in every row."""
    if not rows:
        return None
    constants = constants or {}
    quote, field = connection.ops.quote_name, model._meta.get_field
    columns = ", ".join(quote(field(name).column) for name in (*fields, *constants))
    row = "(" + ", ".join(["%s"] * len(fields) + [_literal(value) for value in constants.values()]) + ")"
    return Statement(
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * len(rows))}",  # noqa: S608 (names and literals of the code)
        [value for values_of_row in rows for value in values_of_row],
    )


def update(
    model: type[models.Model], key: str, fields: Sequence[str], rows: Sequence[tuple]
) -> Statement | None:
    """UPDATE `fields` of the rows of `model` whose `key` is each row's first value, to the
    row's other values (`UPDATE ... FROM (VALUES ...)`; PostgreSQL only)."""
    if not rows:
        return None
    if connection.vendor != "postgresql":
        raise NotImplementedError("One UPDATE of many rows is written for PostgreSQL only.")
    quote, meta = connection.ops.quote_name, model._meta
    named = [meta.get_field(name) for name in (key, *fields)]
    columns = [quote(f.column) for f in named]
    # Every value cast to its column's type: a column of NULLs or strings is not left as text.
    row = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in named) + ")"
    assignments = ", ".join(f"{column} = v.{column}" for column in columns[1:])
    return Statement(
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 (names of the code)
        f"FROM (VALUES {', '.join([row] * len(rows))}) AS v ({', '.join(columns)}) "
        f"WHERE t.{columns[0]} = v.{columns[0]}",
        [value for values_of_row in rows for value in values_of_row],
    )


def run_together(*statements: Statement | None) -> None:
    """Run `statements` (those that are not None) all or none: one statement on PostgreSQL."""
    statements = [s for s in statements if s is not None]
    if not statements:
        return
    if connection.vendor == "postgresql":
        *first, last = statements
        ctes = "".join(f"{'WITH' if n == 0 else ','} w{n} AS ({s.sql}) " for n, s in enumerate(first))
        with connection.cursor() as cursor:
            cursor.execute(ctes + last.sql, [p for s in statements for p in s.params])
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.sql, statement.params)


def _literal(value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"A constant column takes a string or an integer, not {value!r}.")
    if isinstance(value, int):
        return str(value)
    if "'" in value or "%" in value:
        raise ValueError(f"A constant column's string may not contain quotes or %: {value!r}.")
    return f"'{value}'"
