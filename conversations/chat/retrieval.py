"""Retrieval of knowledge-base chunks for a question, from the chosen flow's own index.

The index is read as its flow's `IndexLayout` says (namespace, metadata fields, embedding model),
so indexes another system wrote answer as they are. The layout comes from the settings the chat
already holds in memory: no query and no extra call per question.
"""

import logging
from dataclasses import dataclass, field

from chatplatform.ai.base import ContextChunk, ProviderError
from chatplatform.personal_data import redact_personal
from chatplatform.vectorstores.base import VectorStoreError
from conversations.chat.rank_fusion import hybrid_query
from conversations.knowledge.layouts import embedder_for, index_layout
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
    """The chatbot's top-k chunks above its score threshold, from the flow's index only
    (vectors and BM25 fused: `rank_fusion`).

    The question is embedded without the personal details the rules recognise: the embedding
    provider is an AI provider like any other, and an email or phone number finds no chunk."""
    index_name = flow.index_name
    if not index_name:
        return Retrieval()
    layout = index_layout(chatbot, flow)
    try:
        store = vector_store_for(chatbot=chatbot, index_name=index_name, namespace=layout.namespace)
        vector = await embedder_for(layout.embedding_model).aembed_query(redact_personal(question))
        matches = await hybrid_query(
            store=store,
            vector=vector,
            question=redact_personal(question),
            top_k=chatbot.retrieval_top_k,
            text_of=lambda metadata: layout.passage(metadata)[0],
        )
    except VectorStoreError as exc:
        logger.warning(
            "Knowledge base %s of chatbot %s unavailable: %s", index_name, chatbot.chatbot_id, exc.code
        )
        return Retrieval(index_name=index_name, error_code=exc.code)
    except ProviderError as exc:
        logger.warning("Embedding failed for chatbot %s: %s", chatbot.chatbot_id, exc.code)
        return Retrieval(index_name=index_name, error_code=exc.code)
    chunks = []
    for match in matches:
        if match.score < chatbot.retrieval_min_score:
            continue
        text, title, url = layout.passage(match.metadata)
        if not text:
            continue
        chunks.append(
            ContextChunk(
                text=text,
                source=title or url,
                score=match.score,
                metadata={**match.metadata, "id": match.id, _TITLE: title, _URL: url},
            )
        )
    return Retrieval(chunks=chunks, index_name=index_name)


# Keys of a chunk's metadata under which retrieval leaves what the layout read.
_TITLE = "_title"
_URL = "_url"


def sources_of(chunks: list[ContextChunk]) -> list[dict]:
    """One entry per source document or page, best score first, for the client to show; with
    its `url` when the record has one."""
    seen: dict[str, dict] = {}
    for chunk in chunks:
        title = str(chunk.metadata.get(_TITLE, chunk.source))
        url = str(chunk.metadata.get(_URL, ""))
        key = str(chunk.metadata.get("document_id") or url or title)
        if key in seen:
            continue
        seen[key] = {
            "title": title or url,
            "section": str(chunk.metadata.get("section", "")),
            "score": round(chunk.score, 3),
        }
        if url:
            seen[key]["url"] = url
    return list(seen.values())
