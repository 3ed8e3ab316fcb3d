"""Ask an LLM for a JSON object, and ask again with the parse error when the reply is not one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

Send = Callable[[list[dict[str, Any]]], Awaitable[str | None]]

REASK = "That was not a valid JSON object ({error}). Answer with only the object."


class InvalidJson(ValueError):
    """No attempt gave a JSON object; `content` is the last reply, `error` why it was refused."""

    def __init__(self, error: str, content: str | None, attempts: int) -> None:
        super().__init__(f"No valid JSON object after {attempts} attempt(s): {error}")
        self.error = error
        self.content = content
        self.attempts = attempts


def json_object_parse(content: str | None) -> tuple[dict[str, Any] | None, str]:
    """The object in `content`, or None and why not (short text, never the content itself)."""
    if not content or not content.strip():
        return None, "the reply was empty"
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an object"
    return value, ""


async def ask_json(send: Send, messages: list[dict[str, Any]], *, max_attempts: int = 2) -> dict[str, Any]:
    """`await send(messages)` until it returns a JSON object, at most `max_attempts` times.

    After an invalid reply the conversation goes on with that reply and a user message naming
    the parse error. Raises `InvalidJson` when no attempt gave an object; errors of `send`
    propagate at once (retrying them is `ainvoke`'s job).
    """
    attempts = max(1, max_attempts)
    content: str | None = None
    error = ""
    for _ in range(attempts):
        content = await send(messages)
        parsed, error = json_object_parse(content)
        if parsed is not None:
            return parsed
        messages = [
            *messages,
            {"role": "assistant", "content": content or ""},
            {"role": "user", "content": REASK.format(error=error)},
        ]
    raise InvalidJson(error, content, attempts)
