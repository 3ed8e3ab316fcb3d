"""The OpenAI SDK clients of the process and the translation of SDK errors into `ProviderError`.

One `AsyncOpenAI` client per process serves every async call, so its connection pool
(`OPENAI_MAX_CONNECTIONS`) is shared by all concurrent answers; one sync `OpenAI` client serves
the sync embeddings of Celery workers. Both are created on first use from settings.
"""

from __future__ import annotations

import asyncio
import re
import threading
import weakref
from collections.abc import Mapping

import anyio
import httpx2
import openai
from django.conf import settings

from chatplatform.ai.base import (
    PROVIDER_AUTH_FAILED,
    PROVIDER_BAD_RESPONSE,
    PROVIDER_RATE_LIMITED,
    PROVIDER_TIMEOUT,
    PROVIDER_UNAVAILABLE,
    ProviderError,
)
from chatplatform.ai.request_gate import attach_trace

_SAFE_ERROR_WORD = re.compile(r"^[a-z0-9_]{1,64}$")


# --- clients ---------------------------------------------------------------------------------


def _client_config() -> tuple[str, str | None, float, int, int]:
    api_key = settings.OPENAI_API_KEY
    if not api_key:
        raise ProviderError(PROVIDER_AUTH_FAILED, "OPENAI_API_KEY is not set.", retryable=False)
    return (
        api_key,
        settings.OPENAI_BASE_URL,
        float(settings.OPENAI_TIMEOUT_SECONDS),
        int(settings.OPENAI_MAX_CONNECTIONS),
        int(settings.OPENAI_MAX_RETRIES),
    )


def _timeout(seconds: float) -> httpx2.Timeout:
    return httpx2.Timeout(seconds, connect=min(seconds, 10.0))


KEEPALIVE_SECONDS = 60.0


def pool_limits(max_connections: int) -> httpx2.Limits:
    # Keep as many idle connections as we may open, for a minute rather than httpx's 5 seconds:
    # answers come in bursts, and a new TLS handshake per answer costs more than an idle socket
    # (a connection the server closed meanwhile is noticed and replaced when it is taken).
    return httpx2.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_SECONDS,
    )


class _Clients:
    """The process's SDK clients, created lazily and keyed by their settings.

    The SDK transport is httpx2 (openai>=3), so pool limits and timeouts are httpx2 objects. An
    async connection pool belongs to the event loop that opened its sockets: daphne runs one loop
    per process, so in production this is one client; code that runs a fresh loop per call
    (`async_to_sync` in a worker, each test) gets a client for that loop instead of reusing dead
    sockets. Keying by the settings means a changed setting (tests) never sees a stale client.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, openai.AsyncOpenAI]]
        self._async = weakref.WeakKeyDictionary()
        self._sync: dict[tuple, openai.OpenAI] = {}

    def async_client(self) -> openai.AsyncOpenAI:
        """The shared async client for the running event loop."""
        config = _client_config()
        loop = asyncio.get_running_loop()
        per_loop = self._async.get(loop)
        client = per_loop.get(config) if per_loop else None
        if client is not None:
            return client
        api_key, base_url, timeout, max_connections, max_retries = config
        with self._lock:
            per_loop = self._async.setdefault(loop, {})
            client = per_loop.get(config)
            if client is None:
                client = openai.AsyncOpenAI(
                    api_key=api_key,
                    base_url=base_url,
                    timeout=_timeout(timeout),
                    max_retries=max_retries,
                    http_client=openai.DefaultAsyncHttpxClient(
                        limits=pool_limits(max_connections),
                        timeout=_timeout(timeout),
                        event_hooks={"request": [attach_trace]},
                    ),
                )
                per_loop[config] = client
        return client

    def sync_client(self) -> openai.OpenAI:
        """The shared sync client (thread-safe; Celery workers)."""
        config = _client_config()
        client = self._sync.get(config)
        if client is not None:
            return client
        api_key, base_url, timeout, max_connections, max_retries = config
        with self._lock:
            client = self._sync.get(config)
            if client is None:
                client = openai.OpenAI(
                    api_key=api_key,
                    base_url=base_url,
                    timeout=_timeout(timeout),
                    max_retries=max_retries,
                    http_client=openai.DefaultHttpxClient(
                        limits=pool_limits(max_connections), timeout=_timeout(timeout)
                    ),
                )
                self._sync[config] = client
        return client

    def clear(self) -> None:
        """Drop every client so the next call builds new ones from the current settings."""
        with self._lock:
            self._async = weakref.WeakKeyDictionary()
            sync_clients = list(self._sync.values())
            self._sync = {}
        for client in sync_clients:
            client.close()


clients = _Clients()


# --- errors ----------------------------------------------------------------------------------


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(float(value) / divisor, 0.0)
            except ValueError:
                return None
    return None


def error_kind(body: object) -> str:
    """The provider's own error code or type, only when it is a plain identifier.

    The provider's message is never copied: for a wrong key it quotes part of the key.
    """
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping):
            for key in ("code", "type"):
                value = error.get(key)
                if isinstance(value, str) and _SAFE_ERROR_WORD.match(value):
                    return value
    return ""


def error_from_sdk(exc: openai.OpenAIError) -> ProviderError:
    """Translate an SDK exception into a `ProviderError` with a stable code."""
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError(PROVIDER_TIMEOUT, "The AI provider did not answer in time.")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError(PROVIDER_UNAVAILABLE, "The AI provider could not be reached.")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        kind = error_kind(exc.body)
        detail = f"HTTP {status}" + (f", {kind}" if kind else "")
        retry_after = _retry_after(exc.response.headers)
        if status in (401, 403):
            return ProviderError(
                PROVIDER_AUTH_FAILED,
                f"The AI provider refused our credentials ({detail}).",
                status_code=status,
            )
        if status == 429:
            # An exhausted quota does not come back by waiting; a rate limit does.
            return ProviderError(
                PROVIDER_RATE_LIMITED,
                f"The AI provider is rate limiting us ({detail}).",
                retryable=kind != "insufficient_quota",
                status_code=status,
                retry_after=retry_after,
            )
        if status >= 500 or status in (408, 409):
            return ProviderError(
                PROVIDER_UNAVAILABLE,
                f"The AI provider failed ({detail}).",
                status_code=status,
                retry_after=retry_after,
            )
        return ProviderError(
            PROVIDER_BAD_RESPONSE,
            f"The AI provider rejected the request ({detail}).",
            status_code=status,
        )
    if isinstance(exc, openai.APIResponseValidationError):
        return ProviderError(PROVIDER_BAD_RESPONSE, "The AI provider sent a response we cannot read.")
    if isinstance(exc, openai.APIError):
        return ProviderError(PROVIDER_UNAVAILABLE, "The AI provider reported an error.")
    # Client-side configuration errors of the SDK (e.g. no key): not fixable by retrying.
    return ProviderError(PROVIDER_AUTH_FAILED, "The AI provider client is not configured.", retryable=False)


# Raised while reading a response body, after the SDK has handed it over (the SDK maps only
# the errors before that).
TRANSPORT_ERRORS = (httpx2.TransportError, httpx2.DecodingError, OSError, anyio.EndOfStream)
