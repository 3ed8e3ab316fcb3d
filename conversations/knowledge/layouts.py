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

from django.conf import settings
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from chatplatform.ai.base import Embedder
    from conversations.models import ChatbotSettings, Flow

# Pinecone's own name for an index's default namespace; staff and import files write it to tell
# "the default namespace" (stored as "") from "the chatbot's id" (stored as NULL).
DEFAULT_NAMESPACE_NAME = "__default__"
DEFAULT_TEXT_FIELD = "text"
DEFAULT_TITLE_FIELD = "title"
DEFAULT_SOURCE_FIELD = "source"
# The local provider's embedder, for `name@dimension` in development and tests.
LOCAL_EMBEDDING_MODEL = "feature-hashing"

_MODEL = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._:/-]{0,90})(?:@(?P<dimension>[1-9][0-9]{0,4}))?$")
_URL = re.compile(r"^https?://", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EmbeddingModel:
    name: str
    dimension: int
    # Whether `@dimension` was written: only then is the dimension sent to the provider (older
    # models refuse the parameter).
    explicit_dimension: bool


def _native_dimensions() -> dict[str, int]:
    from chatplatform.ai.openai import _NATIVE_EMBEDDING_DIMENSIONS

    return {**_NATIVE_EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL: settings.LOCAL_EMBEDDING_DIMENSION}


def embedding_model_parse(value: str) -> EmbeddingModel:
    """`text-embedding-ada-002` or `text-embedding-3-large@1024`; raises ValidationError."""
    match = _MODEL.match(value.strip())
    if match is None:
        raise ValidationError(
            "Write a model name, optionally with its dimension: text-embedding-3-small or "
            "text-embedding-3-large@1024."
        )
    name, dimension = match["name"], match["dimension"]
    if dimension:
        return EmbeddingModel(name, int(dimension), explicit_dimension=True)
    native = _native_dimensions().get(name)
    if native is None:
        raise ValidationError(f"The dimension of {name} is not known; write it as {name}@DIMENSION.")
    return EmbeddingModel(name, native, explicit_dimension=False)


def validate_embedding_model(value: str) -> None:
    if value:
        embedding_model_parse(value)


def namespace_from_text(value: Any) -> str | None:
    """An import cell or form value as stored: empty is the chatbot's id (None), and
    `__default__` the index's default namespace ("")."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    return "" if text == DEFAULT_NAMESPACE_NAME else text


def namespace_as_text(value: str | None) -> str:
    """The stored namespace as staff and export files write it (the reverse of the above)."""
    if value is None:
        return ""
    return value or DEFAULT_NAMESPACE_NAME


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
