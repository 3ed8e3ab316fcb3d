"""The AI provider interface: chat (streamed), JSON extraction, vision and embeddings.

Services depend on these types only; `chatplatform.ai.openai` and `chatplatform.ai.local` implement
them, and no SDK type crosses this boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from chatplatform.calls.failures import FailureKind

# Stable error codes; callers branch on them and show them to API clients.
PROVIDER_TIMEOUT = "provider_timeout"
PROVIDER_UNAVAILABLE = "provider_unavailable"
PROVIDER_RATE_LIMITED = "provider_rate_limited"
PROVIDER_AUTH_FAILED = "provider_auth_failed"
PROVIDER_STREAM_INTERRUPTED = "provider_stream_interrupted"
PROVIDER_BAD_RESPONSE = "provider_bad_response"
PROVIDER_NOT_SUPPORTED = "provider_not_supported"

_RETRYABLE_CODES = frozenset(
    {PROVIDER_TIMEOUT, PROVIDER_UNAVAILABLE, PROVIDER_RATE_LIMITED, PROVIDER_STREAM_INTERRUPTED}
)


class ProviderError(Exception):
    """A provider call failed.

    `code` is one of the `PROVIDER_*` constants, `message` is human text that never contains a
    credential, `retryable` says whether the same call may succeed later, and `retry_after` is the
    provider's requested delay in seconds when it sent one.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = code in _RETRYABLE_CODES if retryable is None else retryable
        self.status_code = status_code
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def failure_kind(self) -> FailureKind:
        if self.code in (PROVIDER_AUTH_FAILED, PROVIDER_NOT_SUPPORTED) or self.status_code == 404:
            return FailureKind.CONFIGURATION
        if self.retryable:
            return FailureKind.TRANSIENT
        if self.code == PROVIDER_BAD_RESPONSE and self.status_code in (400, 413, 415, 422):
            return FailureKind.INPUT  # the provider refused this request's data
        return FailureKind.PERMANENT


@dataclass(frozen=True, slots=True)
class ContextChunk:
    """A retrieved knowledge-base passage and its similarity to the question."""

    text: str
    source: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One answer to produce.

    `messages` is the full OpenAI-format conversation (system prompt with the context already in
    it); `question` and `context` are the same facts in structured form for providers that do not
    read prose prompts (the local one).
    """

    messages: list[dict[str, Any]]
    question: str
    context: list[ContextChunk]
    language: str
    model: str | None = None
    max_tokens: int = 600
    temperature: float = 0.2


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ChatStream:
    """The text deltas of one streamed answer.

    Iterate it with `async for`; `usage` is filled once the provider reported it (at the latest
    after exhaustion). `aclose()` stops the answer and releases the HTTP stream at once; it may be
    called from another task than the one iterating (a "stop" button handled elsewhere), and the
    iterating loop then simply ends.

    The source is an async generator yielding `str` deltas and, once, a `Usage`.
    """

    __slots__ = ("_closing", "_done", "_reader", "_reading", "_source", "_stopped", "usage")

    def __init__(self, source: AsyncGenerator[str | Usage, None]) -> None:
        self._source = source
        self.usage: Usage | None = None
        self._done = False
        self._closing = False
        self._reading = False
        self._reader: asyncio.Task[Any] | None = None
        self._stopped: asyncio.Event | None = None

    def __aiter__(self) -> ChatStream:
        return self

    async def __anext__(self) -> str:
        if self._done:
            raise StopAsyncIteration
        self._reading = True
        self._reader = asyncio.current_task()
        try:
            while True:
                item = await self._source.__anext__()
                # A type check per token is cheaper than a second channel for the usage.
                if type(item) is str:
                    return item
                self.usage = item  # type: ignore[assignment]
        except StopAsyncIteration:
            self._done = True
            raise
        except asyncio.CancelledError:
            self._done = True
            # Our own aclose() cancelled this read: end the iteration quietly instead of cancelling
            # the caller, unless someone else cancelled the task too.
            if self._closing and self._reader is not None and self._reader.uncancel() == 0:
                raise StopAsyncIteration from None
            raise
        except BaseException:
            self._done = True
            raise
        finally:
            self._reading = False
            if self._done and self._stopped is not None:
                self._stopped.set()

    async def aclose(self) -> None:
        """Stop the stream and close the underlying HTTP response; safe to call more than once."""
        if self._closing:
            return
        self._closing = True
        reader = self._reader
        if self._reading and reader is not None and reader is not asyncio.current_task():
            # The generator is suspended inside a read in another task and cannot be closed from
            # here; cancelling that read unwinds it (closing the response) right away.
            self._stopped = asyncio.Event()
            reader.cancel()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=5)
            return
        self._done = True
        await self._source.aclose()

    async def collect(self) -> str:
        """Read the whole answer and return it as one string."""
        return "".join([delta async for delta in self])

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@runtime_checkable
class ChatProvider(Protocol):
    name: str
    # Whether it writes text from instructions (a language model). One that does not (the local
    # provider) only answers from retrieved chunks, so callers phrase other answers themselves.
    composes_text: bool

    def stream_chat(self, request: ChatRequest) -> ChatStream:
        """Start an answer; nothing is sent until the stream is first iterated."""
        ...

    async def complete_json(self, *, system: str, user: str, max_attempts: int = 2) -> dict[str, Any]:
        """Ask for a JSON object; re-ask on invalid JSON, then raise `provider_bad_response`."""
        ...

    async def describe_image(self, *, image: bytes, mime_type: str, prompt: str, language: str) -> str:
        """Describe an image in `language`."""
        ...


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed texts synchronously (Celery workers), batched, in input order."""
        ...

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        """Embed texts from async code, batched, in input order."""
        ...

    async def aembed_query(self, text: str) -> Sequence[float]:
        """Embed one search query from async code (where it pays: cached, batched with others)."""
        ...
