"""The admin's "check Pinecone connection": one clear outcome per configured index."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class IndexCheck:
    """The outcome of checking one configured index; `reason` is for admins and has no secrets."""

    index: str
    ok: bool
    reason: str


def check_pinecone_connection(
    *,
    api_key: str,
    index_names: list[str],
    controller_host: str | None = None,
    timeout: float = 10.0,
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
            check, shared_failure = _check_index(client, name, api_key=api_key, timeout=timeout)
            results.append(check)
    finally:
        client.close()
    return results


def _check_index(
    client: Pinecone, name: str, *, api_key: str, timeout: float
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
    finally:
        index.close()
    return IndexCheck(
        index=name, ok=True, reason=f"Ready: {description}, {stats.total_vector_count} vectors."
    ), None


def _unreachable_reason(exc: PineconeError, *, api_key: str, timeout: float, what: str) -> str:
    if isinstance(exc, PineconeTimeoutError):
        return f"{what} could not be reached: no answer within {timeout:g} seconds."
    return f"{what} could not be reached: {redact_key(str(exc), api_key)}"
