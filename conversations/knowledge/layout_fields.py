"""The values a chatbot's (or flow's) index layout is written with: the metadata fields' defaults,
the embedding model as `name@dimension`, and the namespace as staff write it.

Apart from `layouts` so that the models can validate and default their fields without importing
the code that reads the models.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

# Pinecone's own name for an index's default namespace; staff and import files write it to tell
# "the default namespace" (stored as "") from "the chatbot's id" (stored as NULL).
DEFAULT_NAMESPACE_NAME = "__default__"
DEFAULT_TEXT_FIELD = "text"
DEFAULT_TITLE_FIELD = "title"
DEFAULT_SOURCE_FIELD = "source"
# The local provider's embedder, for `name@dimension` in development and tests.
LOCAL_EMBEDDING_MODEL = "feature-hashing"

_MODEL = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._:/-]{0,90})(?:@(?P<dimension>[1-9][0-9]{0,4}))?$")


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
