"""How a flow's index is laid out: its namespace, the metadata fields of a passage, its embedder.

Shops move over with Pinecone indexes their old system wrote: passages under `content`, pages
under `url`, everything in the index's default namespace, vectors from the model of the day.
Instead of re-ingesting, each chatbot (and each flow, to override it) says where to look, and
retrieval reads the records as they are. The values live on the chatbot's settings and flows,
which the chat keeps in memory (`chatbot_configs`), so resolving a layout costs no query.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatplatform.ai.base import Embedder
    from conversations.models import ChatbotSettings, Flow

from conversations.knowledge.layout_fields import (
    DEFAULT_NAMESPACE_NAME,
    DEFAULT_SOURCE_FIELD,
    DEFAULT_TEXT_FIELD,
    DEFAULT_TITLE_FIELD,
    LOCAL_EMBEDDING_MODEL,
    EmbeddingModel,
    embedding_model_parse,
    namespace_as_text,
    namespace_from_text,
    validate_embedding_model,
)

__all__ = [
    "DEFAULT_NAMESPACE_NAME",
    "DEFAULT_SOURCE_FIELD",
    "DEFAULT_TEXT_FIELD",
    "DEFAULT_TITLE_FIELD",
    "LOCAL_EMBEDDING_MODEL",
    "EmbeddingModel",
    "IndexLayout",
    "embedder_for",
    "embedding_model_parse",
    "index_layout",
    "namespace_as_text",
    "namespace_from_text",
    "validate_embedding_model",
]

_URL = re.compile(r"^https?://", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class IndexLayout:
    """Where one flow's passages are and how they read."""

    namespace: str  # "" is the index's default namespace
    text_field: str
    title_field: str
    source_field: str
    embedding_model: str  # "" is the platform's embedder

    def passage(self, metadata: dict[str, Any]) -> tuple[str, str, str]:
        """(text, title, url) of a record's metadata.

        Records the platform wrote itself keep `text`, and `source` holding the document's title,
        so both are read when the mapped fields are missing: an index may hold both kinds."""
        text = metadata.get(self.text_field) or metadata.get(DEFAULT_TEXT_FIELD) or ""
        title = str(metadata.get(self.title_field, "") if self.title_field else "")
        source = str(metadata.get(self.source_field, "") if self.source_field else "")
        if not source and self.source_field != DEFAULT_SOURCE_FIELD:
            source = str(metadata.get(DEFAULT_SOURCE_FIELD, ""))
        url = source if _URL.match(source) else ""
        if not title and not url:
            title = source
        return str(text), title, url


def index_layout(chatbot: ChatbotSettings, flow: Flow | None = None) -> IndexLayout:
    """The chatbot's layout with the flow's overrides. Reads attributes only: no query."""
    namespace = chatbot.pinecone_namespace
    if flow is not None and flow.pinecone_namespace is not None:
        namespace = flow.pinecone_namespace

    def field(name: str) -> str:
        return (getattr(flow, name, "") if flow is not None else "") or getattr(chatbot, name)

    return IndexLayout(
        namespace=chatbot.chatbot_id if namespace is None else namespace,
        text_field=field("metadata_text_field") or DEFAULT_TEXT_FIELD,
        title_field=field("metadata_title_field"),
        source_field=field("metadata_source_field"),
        embedding_model=field("embedding_model"),
    )


_embedders: weakref.WeakKeyDictionary[Embedder, dict[str, Embedder]] = weakref.WeakKeyDictionary()
_embedders_lock = threading.Lock()


def embedder_for(model: str) -> Embedder:
    """The embedder of an index built with `model` ("" is the platform's own).

    Kept per process beside the platform's embedder, so its query cache lives as long, and
    forgotten with it when providers are reset. With the local provider the model only sets the
    dimension of the feature-hashing vectors: a development run reads an index of that width,
    but only records embedded the same way (as the tests write them) match by meaning.
    """
    from chatplatform.ai import get_embedder

    default = get_embedder()
    if not model:
        return default
    with _embedders_lock:
        known = _embedders.setdefault(default, {})
        embedder = known.get(model)
        if embedder is None:
            embedder = known[model] = _build_embedder(embedding_model_parse(model), default)
        return embedder


def _build_embedder(model: EmbeddingModel, default: Embedder) -> Embedder:
    if default.name == "local":
        from chatplatform.ai.local import LocalEmbedder

        return default if model.dimension == default.dimension else LocalEmbedder(model.dimension)
    from chatplatform.ai.openai import OpenAIEmbedder

    if getattr(default, "model", None) == model.name and default.dimension == model.dimension:
        return default  # the platform's own model, named: one query cache, not two
    return OpenAIEmbedder(model=model.name, dimensions=model.dimension if model.explicit_dimension else None)
