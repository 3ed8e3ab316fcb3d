"""The admin's "check Pinecone connection": one clear outcome per configured index.

Given what the chatbot expects of an index (`IndexExpectation`: namespace, embedding dimension,
metadata fields), the check also compares the dimensions, counts the namespace's records, reads
one of them and proposes the metadata fields from its keys, so that an index written by another
system can be mapped without guessing. Only metadata keys are reported, never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pinecone import (
    ForbiddenError,
    NotFoundError,
    Pinecone,
    PineconeConnectionError,
    PineconeError,
    PineconeTimeoutError,
    RetryConfig,
    UnauthorizedError,
)

from chatplatform.vectorstores.pinecone import controller_host_url, dense_dimension, redact_key

# Metadata keys that other systems commonly use, most likely first.
_TEXT_KEYS = ("text", "content", "page_content", "chunk", "chunk_text", "body", "passage", "document")
_TITLE_KEYS = ("title", "name", "heading", "page_title", "document_title")
_SOURCE_KEYS = ("source", "url", "link", "href", "source_url", "page_url", "uri")


@dataclass(frozen=True, slots=True)
class FieldMapping:
    """Metadata keys of a passage's text, title and source URL ("" when the records have none)."""

    text: str
    title: str
    source: str

    def __str__(self) -> str:
        return ", ".join(f"{part}={getattr(self, part) or '(none)'}" for part in ("text", "title", "source"))


@dataclass(frozen=True, slots=True)
class IndexExpectation:
    """What a chatbot expects of an index: where its records are and how they read."""

    namespace: str  # "" is the index's default namespace
    dimension: int | None
    model: str  # the embedding model, as admins know it
    fields: FieldMapping


@dataclass(frozen=True, slots=True)
class IndexCheck:
    """The outcome of checking one configured index; `reason` is for admins and has no secrets.

    The figures are set only when an `IndexExpectation` was given."""

    index: str
    ok: bool
    reason: str
    dimension: int | None = field(default=None, compare=False)
    record_count: int | None = field(default=None, compare=False)
    sample_keys: tuple[str, ...] = field(default=(), compare=False)
    proposed: FieldMapping | None = field(default=None, compare=False)


def check_pinecone_connection(
    *,
    api_key: str,
    index_names: list[str],
    controller_host: str | None = None,
    timeout: float = 10.0,
    expectations: Mapping[str, IndexExpectation] | None = None,
) -> list[IndexCheck]:
    """Check that each index can be used with `api_key`, for the admin's "check connection" action.

    Per index: describe it on the control plane (key accepted, index exists, index ready), then
    ask its own host for statistics (reachable, key accepted there too, vector count). Nothing is
    cached and control-plane calls are not retried, so the answer reflects the moment and comes
    quickly; a rejected key or an unreachable Pinecone is reported for all remaining indexes
    without asking again. Never raises for a Pinecone failure.
    """
    names = [name for name in index_names if name]
    if not api_key:
        reason = "No Pinecone API key is configured."
        return [IndexCheck(index=name, ok=False, reason=reason) for name in names] or [
            IndexCheck(index="", ok=False, reason=reason)
        ]
    if not names:
        return [IndexCheck(index="", ok=False, reason="No Pinecone index is configured.")]
    try:
        client = Pinecone(
            api_key=api_key,
            host=controller_host_url(controller_host),
            timeout=timeout,
            retry_config=RetryConfig(max_retries=0),
        )
    except PineconeError as exc:  # e.g. a key with a trailing newline is not a valid header value
        reason = redact_key(exc.message, api_key)
        return [IndexCheck(index=name, ok=False, reason=reason) for name in names]
    results: list[IndexCheck] = []
    shared_failure: str | None = None
    try:
        for name in names:
            if shared_failure is not None:
                results.append(IndexCheck(index=name, ok=False, reason=shared_failure))
                continue
            check, shared_failure = _check_index(
                client, name, api_key=api_key, timeout=timeout, expected=(expectations or {}).get(name)
            )
            results.append(check)
    finally:
        client.close()
    return results


def _check_index(
    client: Pinecone, name: str, *, api_key: str, timeout: float, expected: IndexExpectation | None = None
) -> tuple[IndexCheck, str | None]:
    """Check one index; the second value is a reason that applies to every other index as well."""
    try:
        model = client.indexes.describe(name)
    except (UnauthorizedError, ForbiddenError):
        reason = "Pinecone rejected the API key."
        return IndexCheck(index=name, ok=False, reason=reason), reason
    except NotFoundError:
        return IndexCheck(
            index=name, ok=False, reason="The index does not exist in this Pinecone project."
        ), None
    except (PineconeTimeoutError, PineconeConnectionError) as exc:
        reason = _unreachable_reason(exc, api_key=api_key, timeout=timeout, what="Pinecone")
        return IndexCheck(index=name, ok=False, reason=reason), reason
    except PineconeError as exc:
        reason = f"Pinecone answered with an error: {redact_key(str(exc), api_key)}"
        return IndexCheck(index=name, ok=False, reason=reason), None
    if not model.status.ready or not model.host:
        return IndexCheck(
            index=name, ok=False, reason=f"The index is not ready (state: {model.status.state})."
        ), None

    description = f"dimension {dense_dimension(model)}, metric {getattr(model, 'metric', 'unknown')}"
    index = client.index(host=model.host)
    try:
        stats = index.describe_index_stats(timeout=timeout)
    except (UnauthorizedError, ForbiddenError):
        reason = "The index host rejected the API key."
        return IndexCheck(index=name, ok=False, reason=reason), None
    except (PineconeTimeoutError, PineconeConnectionError) as exc:
        reason = _unreachable_reason(
            exc, api_key=api_key, timeout=timeout, what=f"The index host {model.host}"
        )
        return IndexCheck(index=name, ok=False, reason=reason), None
    except PineconeError:
        # The control plane already vouched for the index; only the count is missing.
        return IndexCheck(
            index=name, ok=True, reason=f"Ready: {description}, vector count unavailable."
        ), None
    else:
        if expected is not None:
            return _check_layout(index, name, stats, dense_dimension(model), expected, timeout=timeout), None
    finally:
        index.close()
    return IndexCheck(
        index=name, ok=True, reason=f"Ready: {description}, {stats.total_vector_count} vectors."
    ), None


def _check_layout(
    index: Any, name: str, stats: Any, dimension: int | None, expected: IndexExpectation, *, timeout: float
) -> IndexCheck:
    """Dimension, namespace count, a sample record and the proposed fields of one index."""
    where = f'namespace "{expected.namespace}"' if expected.namespace else "the default namespace"
    count = _namespace_count(stats, expected.namespace)
    facts = [f"Ready: dimension {dimension}, {stats.total_vector_count} vectors, {count} in {where}."]
    ok = True
    if expected.dimension and dimension and expected.dimension != dimension:
        ok = False
        facts.append(
            f"The model {expected.model} makes vectors of dimension {expected.dimension}, not {dimension}: "
            "set the model the index was built with."
        )
    elif expected.dimension:
        facts.append(f"The model {expected.model} has the index's dimension.")
    if not count:
        others = sorted(
            ns or "(default)" for ns, summary in (stats.namespaces or {}).items() if summary.vector_count
        )
        facts.append(
            f"{where.capitalize()} holds no records; namespaces with records: {', '.join(others) or 'none'}."
        )
        return IndexCheck(name, False, " ".join(facts), dimension, count)
    try:
        metadata = _sample_metadata(index, expected.namespace, dimension, timeout=timeout)
    except PineconeError:
        facts.append("No record could be read to check the metadata fields.")
        return IndexCheck(name, ok, " ".join(facts), dimension, count)
    keys = tuple(sorted(metadata))
    proposed = propose_fields(metadata, expected.fields)
    facts.append(f"A sample record has the metadata fields {', '.join(keys) or '(none)'}.")
    if proposed != expected.fields:
        facts.append(f"Proposed mapping: {proposed} (configured: {expected.fields}).")
        if expected.fields.text not in metadata:
            ok = False
            facts.append(
                f'Without a "{expected.fields.text}" field no passage can be read: set the proposed one.'
            )
    else:
        facts.append(f"The configured mapping fits: {expected.fields}.")
    return IndexCheck(name, ok, " ".join(facts), dimension, count, keys, proposed)


def _namespace_count(stats: Any, namespace: str) -> int:
    namespaces = stats.namespaces or {}
    # The default namespace is "" in older API versions' answers and "__default__" in newer ones.
    names = (namespace,) if namespace else ("", "__default__")
    return sum(int(namespaces[ns].vector_count or 0) for ns in names if ns in namespaces)


def _sample_metadata(index: Any, namespace: str, dimension: int | None, *, timeout: float) -> dict[str, Any]:
    """One record's metadata: listed and fetched, or (where listing is not offered, as on pod
    indexes) the nearest record to an arbitrary vector."""
    try:
        listed = index.list_paginated(limit=1, namespace=namespace, timeout=timeout)
        ids = [item.id for item in listed.vectors or []]
        if ids:
            fetched = index.fetch(ids=ids[:1], namespace=namespace, timeout=timeout)
            record = fetched.vectors.get(ids[0])
            if record is not None:
                return dict(record.metadata or {})
    except (UnauthorizedError, ForbiddenError, PineconeTimeoutError, PineconeConnectionError):
        raise
    except PineconeError:
        pass
    if not dimension:
        return {}
    probe = [1.0] + [0.0] * (dimension - 1)
    found = index.query(vector=probe, top_k=1, namespace=namespace, include_metadata=True, timeout=timeout)
    return dict(found.matches[0].metadata or {}) if found.matches else {}


def propose_fields(metadata: Mapping[str, Any], configured: FieldMapping) -> FieldMapping:
    """The metadata keys that most likely hold a record's text, title and source URL."""
    texts = {key for key, value in metadata.items() if isinstance(value, str) and value.strip()}
    urls = {key for key in texts if str(metadata[key]).lower().startswith(("http://", "https://"))}

    def first(configured_key: str, candidates: tuple[str, ...], allowed: set[str]) -> str:
        if configured_key in allowed:
            return configured_key
        return next((key for key in candidates if key in allowed), "")

    text = first(configured.text, _TEXT_KEYS, texts - urls)
    if not text and texts - urls:
        text = max(texts - urls, key=lambda key: len(str(metadata[key])))
    source = first(configured.source, _SOURCE_KEYS, urls) or next(iter(sorted(urls)), "")
    source = source or first(configured.source, _SOURCE_KEYS, texts - {text})
    title = first(configured.title, _TITLE_KEYS, texts - {text, source} - urls)
    return FieldMapping(text=text, title=title, source=source)


def _unreachable_reason(exc: PineconeError, *, api_key: str, timeout: float, what: str) -> str:
    if isinstance(exc, PineconeTimeoutError):
        return f"{what} could not be reached: no answer within {timeout:g} seconds."
    return f"{what} could not be reached: {redact_key(str(exc), api_key)}"
