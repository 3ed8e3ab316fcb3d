"""Import and export of chatbot settings as JSON or CSV files, and import of the old platform's
SQL (`chatbot_sql` reads it into the same rows).

Import is an idempotent upsert keyed by `chatbot_id`: every row is validated first, and when any
row is bad nothing is written and every bad row is reported with its line and reason. A row that
matches what is stored changes nothing (not even `updated_at`). An empty or missing
`pinecone_api_key` keeps the stored key, so re-importing an export without secrets is harmless.
"""

import csv
import io
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction

from conversations.chatbot_columns import (
    BOOLEAN_COLUMNS,
    COLUMNS,
    CSV_LIST_SEPARATOR,
    FALSE_WORDS,
    IGNORED_COLUMNS,
    LIST_COLUMNS,
    NAMESPACE_COLUMNS,
    SECRET_COLUMNS,
    TRUE_WORDS,
    UPDATE_ONLY_KEY,
    ImportFileError,
)
from conversations.chatbot_sql import read_sql_rows
from conversations.flows import chatbot_flows_ensure
from conversations.knowledge.layouts import namespace_as_text, namespace_from_text
from conversations.models import ChatbotSettings


@dataclass(frozen=True)
class RowError:
    line: int
    chatbot_id: str
    reason: str

    def __str__(self) -> str:
        who = f" ({self.chatbot_id})" if self.chatbot_id else ""
        return f"line {self.line}{who}: {self.reason}"


@dataclass(frozen=True)
class RowChange:
    chatbot_id: str
    action: Literal["create", "update", "unchanged"]
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.action == "update":
            return f"update {self.chatbot_id}: {', '.join(self.fields)}"
        return f"{self.action} {self.chatbot_id}"


@dataclass
class ImportReport:
    changes: list[RowChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def summary(self) -> str:
        verbs = ("created", "updated") if self.written else ("to create", "to update")
        return (
            f"{self.count('create')} {verbs[0]}, {self.count('update')} {verbs[1]}, "
            f"{self.count('unchanged')} unchanged"
        )


# --- reading files ---------------------------------------------------------------------------


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The rows of a JSON (array of objects) or CSV file, each with the line it starts on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"cannot read {path}: {exc}") from exc
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        return _read_json_rows(text)
    if path.suffix.lower() == ".csv":
        return _read_csv_rows(text)
    if path.suffix.lower() == ".sql":
        return read_sql_rows(text)
    raise ImportFileError(
        "the file must be JSON (an array of objects), CSV with a header row, or SQL (.sql) with "
        "INSERT INTO chatbot_settings statements"
    )


def _read_json_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    # Decode object by object so that every row knows the line it starts on.
    decoder = json.JSONDecoder()
    position = _skip_whitespace(text, 0)
    if position >= len(text) or text[position] != "[":
        raise ImportFileError("a JSON import file must hold an array of chatbot objects")
    position = _skip_whitespace(text, position + 1)
    rows: list[tuple[int, dict[str, Any]]] = []
    if position < len(text) and text[position] == "]":
        return rows
    while True:
        line = text.count("\n", 0, position) + 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
        rows.append((line, value))
        position = _skip_whitespace(text, position)
        if position < len(text) and text[position] == ",":
            position = _skip_whitespace(text, position + 1)
            continue
        if position < len(text) and text[position] == "]":
            return rows
        line = text.count("\n", 0, position) + 1
        raise ImportFileError(f"invalid JSON at line {line}: expected ',' or ']'")


def _skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _read_csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise ImportFileError("the CSV file has no header row")
    rows = []
    try:
        for record in reader:
            if None in record:
                rows.append((reader.line_num, {"__extra_cells__": record.pop(None), **record}))
            else:
                rows.append((reader.line_num, record))
    except csv.Error as exc:
        raise ImportFileError(f"invalid CSV at line {reader.line_num}: {exc}") from exc
    return rows


# --- validating rows -------------------------------------------------------------------------


def _parse_boolean(column: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError(f"{column} must be true or false, not {value!r}")


def _parse_list(column: str, value: Any) -> list[str]:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    if isinstance(value, str):
        return [item.strip() for item in value.split(CSV_LIST_SEPARATOR) if item.strip()]
    raise ValueError(f"{column} must be a list of strings")


def _clean_row(raw: dict[str, Any]) -> dict[str, Any]:
    """Typed values of one row; raises ValueError with the reason."""
    if not isinstance(raw, dict):
        raise ValueError("each row must be an object with the chatbot's columns")
    if "__extra_cells__" in raw:
        raise ValueError("the row has more cells than the header has columns")
    raw = {key: value for key, value in raw.items() if key != UPDATE_ONLY_KEY}
    unknown = sorted(set(raw) - set(COLUMNS))
    if unknown:
        raise ValueError(f"unknown column(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for column, value in raw.items():
        if column in IGNORED_COLUMNS:
            continue
        if value is None:
            value = ""
        if column in NAMESPACE_COLUMNS:
            if not isinstance(value, str):
                raise ValueError(f"{column} must be text, not {type(value).__name__}")
            values[column] = namespace_from_text(value)
        elif column in BOOLEAN_COLUMNS:
            values[column] = _parse_boolean(column, value)
        elif column in LIST_COLUMNS:
            values[column] = _parse_list(column, value)
        elif isinstance(value, str):
            values[column] = value.strip()
        else:
            raise ValueError(f"{column} must be text, not {type(value).__name__}")
    if not values.get("chatbot_id"):
        raise ValueError("chatbot_id is required")
    if values.get("pinecone_api_key", "") == "":
        values.pop("pinecone_api_key", None)
    return values


def _validation_reason(error: ValidationError) -> str:
    return "; ".join(
        message if column == "__all__" else f"{column}: {message}"
        for column, messages in error.message_dict.items()
        for message in messages
    )


def _plan_row(
    values: dict[str, Any], existing: ChatbotSettings | None, update_only: Collection[str] | None = None
) -> tuple[ChatbotSettings, RowChange]:
    if existing is not None and update_only is not None:
        values = {column: value for column, value in values.items() if column in update_only}
    chatbot = existing or ChatbotSettings(chatbot_id=values["chatbot_id"])
    if existing is None and not values.get("name"):
        values = {**values, "name": values["chatbot_id"]}
    changed = [column for column, value in values.items() if getattr(chatbot, column) != value]
    for column in changed:
        setattr(chatbot, column, values[column])
    exclude = ["chatbot_id"] if existing else None
    chatbot.full_clean(exclude=exclude, validate_unique=existing is None)
    if existing is None:
        return chatbot, RowChange(chatbot.chatbot_id, "create")
    if not changed:
        return chatbot, RowChange(chatbot.chatbot_id, "unchanged")
    # Secrets are named but never shown in the report.
    return chatbot, RowChange(chatbot.chatbot_id, "update", tuple(changed))


def chatbots_import(*, rows: list[tuple[int, dict[str, Any]]], dry_run: bool = False) -> ImportReport:
    """Validate every row, then upsert all of them in one transaction (or none, on any error)."""
    report = ImportReport()
    existing = {bot.chatbot_id: bot for bot in ChatbotSettings.objects.all()}
    seen: dict[str, int] = {}
    planned: list[tuple[ChatbotSettings, RowChange]] = []
    for line, raw in rows:
        chatbot_id = str(raw.get("chatbot_id", "")) if isinstance(raw, dict) else ""
        try:
            values = _clean_row(raw)
            if values["chatbot_id"] in seen:
                raise ValueError(f"chatbot_id appears twice (first on line {seen[values['chatbot_id']]})")
            seen[values["chatbot_id"]] = line
            update_only = raw.get(UPDATE_ONLY_KEY)
            planned.append(_plan_row(values, existing.get(values["chatbot_id"]), update_only))
        except ValueError as exc:
            report.errors.append(RowError(line, chatbot_id, str(exc)))
        except ValidationError as exc:
            report.errors.append(RowError(line, chatbot_id, _validation_reason(exc)))
    report.changes = [change for _, change in planned]
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        for chatbot, change in planned:
            if change.action != "unchanged":
                chatbot.save()
            if change.action == "create":
                chatbot_flows_ensure(chatbot=chatbot)
    report.written = True
    return report


# --- exporting -------------------------------------------------------------------------------


def chatbot_export_row(chatbot: ChatbotSettings, *, include_secrets: bool) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in COLUMNS:
        if column in SECRET_COLUMNS and not include_secrets:
            continue
        value = getattr(chatbot, column)
        if column == "updated_at":
            value = value.isoformat()
        elif column in NAMESPACE_COLUMNS:
            value = namespace_as_text(value)
        row[column] = value
    return row


def chatbots_export(*, fmt: Literal["json", "csv"], include_secrets: bool = False) -> str:
    rows = [
        chatbot_export_row(chatbot, include_secrets=include_secrets)
        for chatbot in ChatbotSettings.objects.order_by("chatbot_id")
    ]
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    columns = [c for c in COLUMNS if include_secrets or c not in SECRET_COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                key: CSV_LIST_SEPARATOR.join(value) if key in LIST_COLUMNS else value
                for key, value in row.items()
            }
        )
    return out.getvalue()
