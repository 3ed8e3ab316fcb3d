"""What the generators share when a language model writes the content.

The model sees the passages labelled `C1`, `C2`, ... and must answer in JSON that names the label
of each item's source and quotes it; labels map back to chunk ids here, and every quote is checked
against its chunk before anything is kept. Personal details are redacted before the passages
leave, as everywhere else text goes to a provider.
"""

from __future__ import annotations

from typing import Any

from chatplatform.ai.base import ChatProvider
from chatplatform.documents.chunking import token_count
from chatplatform.personal_data import redact_personal
from tutor.content.drafts import SourceChunk
from tutor.content.text import normalise_space

# Passages beyond this many tokens are left out of a prompt (the local rules read them all).
PROMPT_SOURCE_TOKENS = 6000

GROUNDING_RULES = (
    "Use only the passages below; each is labelled like [C1]. For every item give `source`, the "
    "label of the passage it comes from, and `quote`, an exact, contiguous sentence copied from "
    "that passage that supports it. Never invent facts."
)


def sources_listing(
    chunks: list[SourceChunk], *, budget: int = PROMPT_SOURCE_TOKENS, focus: list[str] | tuple[str, ...] = ()
) -> tuple[str, dict[str, SourceChunk]]:
    """The passages as prompt text, and each label's chunk.

    When they do not all fit in `budget` tokens, the passages that mention a missed concept go
    first and the rest are taken evenly across the documents, not just from their beginning;
    the chosen ones keep their reading order.
    """
    texts = [normalise_space(redact_personal(chunk.text)) for chunk in chunks]
    costs = [token_count(text) for text in texts]
    if sum(costs) <= budget:
        chosen = list(range(len(chunks)))
    else:
        wanted = [item.casefold() for item in focus if item.strip()]
        first = [i for i, text in enumerate(texts) if any(item in text.casefold() for item in wanted)]
        stride = max(1, round(sum(costs) / budget))
        spread = list(range(0, len(chunks), stride)) + list(range(len(chunks)))
        chosen, used = [], 0
        for index in dict.fromkeys(first + spread):
            if used + costs[index] <= budget or not chosen:
                chosen.append(index)
                used += costs[index]
        chosen.sort()
    labels: dict[str, SourceChunk] = {}
    parts: list[str] = []
    for index in chosen:
        label = f"C{len(labels) + 1}"
        labels[label] = chunks[index]
        parts.append(f"[{label}] {texts[index]}")
    return "\n\n".join(parts), labels


def source_chunk(item: dict[str, Any], labels: dict[str, SourceChunk]) -> SourceChunk | None:
    label = str(item.get("source") or "").strip().strip("[]").upper()
    return labels.get(label)


def text_field(item: dict[str, Any], name: str, *, limit: int = 2000) -> str:
    value = item.get(name)
    return normalise_space(value)[:limit] if isinstance(value, str) else ""


def list_field(item: dict[str, Any], name: str) -> list[str]:
    value = item.get(name)
    if not isinstance(value, list):
        return []
    return [normalise_space(str(entry))[:500] for entry in value if isinstance(entry, str | int | float)]


def items(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = result.get(name)
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


async def ask(provider: ChatProvider, *, system: str, user: str) -> dict[str, Any]:
    """One JSON object from the provider (re-asked once on invalid JSON by the provider)."""
    return await provider.complete_json(system=system, user=user, max_attempts=2)
