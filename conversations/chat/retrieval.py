"""Retrieval of knowledge-base chunks for a question, from the chosen flow's own index."""

import logging
from dataclasses import dataclass, field

from chatplatform.ai import get_embedder
from chatplatform.ai.base import ContextChunk, ProviderError
from chatplatform.personal_data import redact_personal
from chatplatform.vectorstores.base import VectorStoreError
from conversations.knowledge.stores import vector_store_for
from conversations.models import ChatbotSettings, Flow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retrieval:
    chunks: list[ContextChunk] = field(default_factory=list)
    index_name: str = ""
    # Set when the knowledge base could not be consulted (the answer says so).
    error_code: str = ""


async def retrieve(*, chatbot: ChatbotSettings, flow: Flow, question: str) -> Retrieval:
    """The chatbot's top-k chunks above its score threshold, from the flow's index only.

    The question is embedded without the personal details the rules recognise: the embedding
    provider is an AI provider like any other, and an email or phone number finds no chunk."""
    index_name = flow.index_name
    if not index_name:
        return Retrieval()
    try:
        store = vector_store_for(chatbot=chatbot, index_name=index_name)
        vector = await get_embedder().aembed_query(redact_personal(question))
        matches = await store.aquery(vector, top_k=chatbot.retrieval_top_k)
    except VectorStoreError as exc:
        logger.warning(
            "Knowledge base %s of chatbot %s unavailable: %s", index_name, chatbot.chatbot_id, exc.code
        )
        return Retrieval(index_name=index_name, error_code=exc.code)
    except ProviderError as exc:
        logger.warning("Embedding failed for chatbot %s: %s", chatbot.chatbot_id, exc.code)
        return Retrieval(index_name=index_name, error_code=exc.code)
    chunks = [
        ContextChunk(
            text=str(match.metadata.get("text", "")),
            source=str(match.metadata.get("source", "")),
            score=match.score,
            metadata={"id": match.id, **match.metadata},
        )
        for match in matches
        if match.score >= chatbot.retrieval_min_score and match.metadata.get("text")
    ]
    return Retrieval(chunks=chunks, index_name=index_name)


def sources_of(chunks: list[ContextChunk]) -> list[dict]:
    """One entry per source document, best score first, for the client to show."""
    seen: dict[str, dict] = {}
    for chunk in chunks:
        key = str(chunk.metadata.get("document_id") or chunk.source)
        if key in seen:
            continue
        seen[key] = {
            "title": chunk.source,
            "section": str(chunk.metadata.get("section", "")),
            "score": round(chunk.score, 3),
        }
    return list(seen.values())
