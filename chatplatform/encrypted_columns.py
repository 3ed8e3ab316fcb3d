"""Operations over every encrypted column of every model."""

from django.apps import apps
from django.db import connection, transaction

from chatplatform import crypto
from chatplatform.fields import EncryptedTextField


def encrypted_fields() -> list[tuple[type, EncryptedTextField]]:
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


@transaction.atomic
def secrets_rotate() -> dict[str, int]:
    """Re-encrypt each stored secret with the first key; all or nothing.

    Reads and writes the raw column, so the plaintext never passes through model code or signals
    and `updated_at` is not touched.
    """
    counts: dict[str, int] = {}
    quote = connection.ops.quote_name
    for model, field in encrypted_fields():
        table, column, pk = model._meta.db_table, field.column, model._meta.pk.column
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} "  # noqa: S608  (names from model metadata)
                f"WHERE {quote(column)} <> ''"
            )
            rows = cursor.fetchall()
            for row_pk, token in rows:
                cursor.execute(
                    f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk)} = %s",  # noqa: S608
                    [crypto.rotate(token), row_pk],
                )
        counts[f"{model._meta.label}.{field.name}"] = len(rows)
    return counts
