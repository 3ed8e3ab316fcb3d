"""Reading the old platform's `chatbot_settings` SQL into the rows `chatbot_io` imports.

The old extraction script wrote one `INSERT INTO chatbot_settings (...) VALUES (...), (...)
ON CONFLICT (chatbot_id) DO UPDATE SET ...;` per shop. The file is parsed with sqlglot (PostgreSQL
dialect) and never executed: only literal values are read (strings, `E'...'` escapes, numbers,
booleans, `NULL`, `NOW()` for `updated_at`, `ARRAY[...]` of strings). The columns then go through
the same mapping and validation as JSON and CSV rows.

`ON CONFLICT (chatbot_id) DO UPDATE SET col = EXCLUDED.col, ...` is honoured as written: a
chatbot that exists already gets only those columns; `DO NOTHING` leaves it as it is. A statement
without `ON CONFLICT` upserts like a JSON row. `BEGIN` and `COMMIT` are accepted and ignored.

Every problem is reported with its line, and messages never quote the file: the values may be
API keys, and sqlglot's own messages carry the text around the error.
"""

from __future__ import annotations

import re
from typing import Any

from conversations.chatbot_columns import COLUMNS, UPDATE_ONLY_KEY, ImportFileError

TABLE = "chatbot_settings"
_SQL_DIALECT = "postgres"
# Columns whose value may be NOW(): the platform sets updated_at itself.
_TIMESTAMP_COLUMNS = {"updated_at"}
_MISSING_DELIMITER = re.compile(r"from \d+:(\d+)$")
_PLAIN_DESCRIPTION = re.compile(r"^[A-Za-z ,.:/()]{1,80}$")


class _StatementError(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def read_sql_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    """The rows of every INSERT in `text`, each with the line its values start on.

    Raises `ImportFileError` naming every statement that cannot be read (with its line)."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import ParseError, TokenError

    dialect = Dialect.get_or_raise(_SQL_DIALECT)
    try:
        tokens = dialect.tokenize(text)
    except TokenError as exc:
        raise ImportFileError(f"line {_token_error_line(exc, text)}: {_UNCLOSED}") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[str] = []
    for statement_tokens in _statements(tokens):
        line = statement_tokens[0].line
        try:
            (statement,) = dialect.parser().parse(statement_tokens, text)
            rows.extend(_statement_rows(statement, line))
        except ParseError as exc:
            problems.append(f"line {_parse_error_line(exc, line)}: {_parse_error_reason(exc)}")
        except _StatementError as exc:
            problems.append(f"line {exc.line}: {exc.reason}")
    if problems:
        raise ImportFileError("\n".join(problems))
    if not rows:
        raise ImportFileError(f"the file holds no INSERT INTO {TABLE} statement")
    return rows


_UNCLOSED = "a quoted string, identifier or comment is not closed"


def _token_error_line(exc: Exception, text: str) -> int:
    # The tokenizer names the offset where the unclosed string began ("Missing ' from 5:37");
    # without it, the end of the file is where reading stopped.
    found = _MISSING_DELIMITER.search(str(exc.__cause__ or ""))
    offset = int(found.group(1)) if found else len(text)
    return text.count("\n", 0, offset) + 1


def _parse_error_line(exc: Exception, fallback: int) -> int:
    errors = getattr(exc, "errors", None) or [{}]
    return int(errors[0].get("line") or fallback)


def _parse_error_reason(exc: Exception) -> str:
    # Only the description: sqlglot's message quotes the text around the error.
    errors = getattr(exc, "errors", None) or [{}]
    description = str(errors[0].get("description") or "")
    # Some descriptions quote a token of the file (which may be a key): only plain prose is kept.
    if not _PLAIN_DESCRIPTION.match(description):
        description = "not valid SQL"
    return f"malformed statement: {description}"


def _statements(tokens: list) -> list[list]:
    """Tokens split at semicolons; empty statements dropped."""
    from sqlglot.tokens import TokenType

    statements: list[list] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    return [statement for statement in statements if statement]


def _statement_rows(statement: Any, line: int) -> list[tuple[int, dict[str, Any]]]:
    from sqlglot import exp

    if isinstance(statement, exp.Transaction | exp.Commit):
        return []
    if not isinstance(statement, exp.Insert):
        statements = exp.Delete | exp.Update | exp.Select | exp.Create | exp.Drop | exp.Alter | exp.Merge
        kind = f"not {statement.key.upper()}" if isinstance(statement, statements) else "this is not one"
        raise _StatementError(line, f"only INSERT INTO {TABLE} statements are read; {kind}")
    target = statement.this
    table = target.this if isinstance(target, exp.Schema) else target
    if not isinstance(table, exp.Table) or table.name.lower() != TABLE:
        name = table.name if isinstance(table, exp.Table) else "?"
        raise _StatementError(line, f"unknown table {name}: only {TABLE} is read")
    if not isinstance(target, exp.Schema) or not target.expressions:
        raise _StatementError(
            line, f"the INSERT must name its columns: INSERT INTO {TABLE} (chatbot_id, ...)"
        )
    columns = [identifier.name for identifier in target.expressions]
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown:
        raise _StatementError(line, f"unknown column(s): {', '.join(unknown)}")
    if len(set(columns)) != len(columns):
        raise _StatementError(line, "a column is named twice")
    if "chatbot_id" not in columns:
        raise _StatementError(line, "the INSERT must set chatbot_id")
    update_only = _conflict_updates(statement.args.get("conflict"), line)
    values = statement.expression
    if not isinstance(values, exp.Values):
        raise _StatementError(line, "only INSERT ... VALUES is read, not INSERT ... SELECT")
    rows = []
    for row in values.expressions:
        row_line = _line_of(row, line)
        cells = row.expressions if isinstance(row, exp.Tuple) else [row]
        if len(cells) != len(columns):
            raise _StatementError(row_line, f"the row has {len(cells)} values for {len(columns)} columns")
        record = {
            column: _value(cell, column, _line_of(cell, row_line))
            for column, cell in zip(columns, cells, strict=True)
        }
        if update_only is not None:
            record[UPDATE_ONLY_KEY] = update_only
        rows.append((row_line, record))
    return rows


def _conflict_updates(conflict: Any, line: int) -> frozenset[str] | None:
    """The columns an existing chatbot gets (None: all of them, as in a JSON import)."""
    from sqlglot import exp

    if conflict is None:
        return None
    keys = [
        key.this if isinstance(key, exp.Ordered) else key for key in conflict.args.get("conflict_keys") or []
    ]
    if [getattr(key, "name", None) for key in keys] != ["chatbot_id"]:
        raise _StatementError(line, "ON CONFLICT must name (chatbot_id)")
    action = str(getattr(conflict.args.get("action"), "this", "")).upper()
    if action == "DO NOTHING":
        return frozenset({"chatbot_id"})
    if action != "DO UPDATE":
        raise _StatementError(line, "ON CONFLICT must DO UPDATE SET or DO NOTHING")
    updated = {"chatbot_id"}
    for assignment in conflict.expressions:
        column = assignment.this.name if isinstance(assignment, exp.EQ) else ""
        value = assignment.expression if isinstance(assignment, exp.EQ) else None
        from_excluded = (
            isinstance(value, exp.Column) and value.table.lower() == "excluded" and value.name == column
        )
        if column in _TIMESTAMP_COLUMNS and (from_excluded or isinstance(value, exp.CurrentTimestamp)):
            continue
        if not from_excluded:
            raise _StatementError(
                _line_of(assignment, line), "ON CONFLICT may only SET column = EXCLUDED.column"
            )
        if column not in COLUMNS:
            raise _StatementError(_line_of(assignment, line), f"unknown column(s): {column}")
        updated.add(column)
    return frozenset(updated)


def _value(cell: Any, column: str, line: int) -> Any:
    """The Python value of one literal cell; anything that would need executing is refused."""
    from sqlglot import exp

    while isinstance(cell, exp.Cast | exp.Paren):
        cell = cell.this
    if isinstance(cell, exp.Null):
        return None
    if isinstance(cell, exp.Boolean):
        return bool(cell.this)
    if isinstance(cell, exp.Literal | exp.ByteString):
        # `E'...'` arrives as a ByteString with its escapes already decoded.
        return str(cell.this)
    if isinstance(cell, exp.Neg) and isinstance(cell.this, exp.Literal) and not cell.this.is_string:
        return f"-{cell.this.this}"
    if isinstance(cell, exp.Array) and all(isinstance(item, exp.Literal) for item in cell.expressions):
        return [str(item.this) for item in cell.expressions]
    if isinstance(cell, exp.CurrentTimestamp):
        if column in _TIMESTAMP_COLUMNS:
            return None  # set by the platform on save, as in every other import
        raise _StatementError(line, f"NOW() is only accepted for updated_at, not {column}")
    raise _StatementError(line, f"{column} must be a literal value (text, number, TRUE/FALSE or NULL)")


def _line_of(node: Any, fallback: int) -> int:
    """The first line a node's literals are on (NULL and TRUE carry none)."""
    lines = [
        child.meta["line"]
        for child in node.walk()
        if getattr(child, "_meta", None) and isinstance(child.meta.get("line"), int)
    ]
    return min(lines, default=fallback)
