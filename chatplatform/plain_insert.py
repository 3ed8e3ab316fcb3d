"""One plain INSERT for many rows, for the few writes on a latency path where the ORM's
`bulk_create` costs too much (it builds a model instance per row and prepares every field of
each; measured in bench/README.md). The caller passes the values as the database takes them."""

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from django.db import connection, models

# Well under SQLite's 32766 and PostgreSQL's 65535 parameters per statement.
ROWS_PER_STATEMENT = 1000


def uuid_param() -> Callable[[UUID], Any]:
    """How this database takes a UUID: as it is (PostgreSQL) or as 32 hex digits (SQLite)."""
    if connection.features.has_native_uuid_field:
        return lambda value: value
    return lambda value: value.hex


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple],
    *,
    constants: dict[str, str | int] | None = None,
) -> None:
    """INSERT `rows` (values of `fields`, in that order) into `model`'s table, with `constants`
    (fixed strings and integers of the code, never user input) as SQL literals in every row."""
    if not rows:
        return
    constants = constants or {}
    quote, field = connection.ops.quote_name, model._meta.get_field
    columns = ", ".join(quote(field(name).column) for name in (*fields, *constants))
    row = "(" + ", ".join(["%s"] * len(fields) + [_literal(value) for value in constants.values()]) + ")"
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            values = ", ".join([row] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values}",  # noqa: S608 (names and literals of the code)
                [value for values_of_row in chunk for value in values_of_row],
            )


def _literal(value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"A constant column takes a string or an integer, not {value!r}.")
    if isinstance(value, int):
        return str(value)
    if "'" in value or "%" in value:
        raise ValueError(f"A constant column's string may not contain quotes or %: {value!r}.")
    return f"'{value}'"
