"""OpenAI (or any OpenAI-compatible server) behind the provider interface.

Chat (streamed), JSON mode, vision and embeddings; the shared SDK clients and the error mapping
live in `chatplatform.ai.openai_client`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import weakref
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import httpx2
import numpy as np
import openai
import orjson
from django.conf import settings

from chatplatform import telemetry
from chatplatform.ai.base import (
    PROVIDER_BAD_RESPONSE,
    PROVIDER_STREAM_INTERRUPTED,
    PROVIDER_TIMEOUT,
    ChatRequest,
    ChatStream,
    ProviderError,
    Usage,
)
from chatplatform.ai.openai_client import TRANSPORT_ERRORS, clients, error_from_sdk, error_kind, pool_limits
from chatplatform.ai.query_embeddings import QueryEmbeddings
from chatplatform.calls import ainvoke, invoke
from chatplatform.calls.batch import arun_bounded, run_bounded
from chatplatform.calls.json_retry import InvalidJson, ask_json

EMBEDDING_BATCH_SIZE = 256
_NATIVE_EMBEDDING_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
_VISION_ATTEMPTS = 3
_VISION_MAX_TOKENS = 400
# After [DONE] the rest of the body is only the chunked-encoding terminator; reading it keeps the
# connection reusable, but a server that never ends the body must not hold the answer open.
_DRAIN_SECONDS = 1.0
_LANGUAGE_NAMES = {
    "da": "Danish",
    "en": "English",
    "sv": "Swedish",
    "de": "German",
    "nb": "Norwegian",
    "no": "Norwegian",
    "fi": "Finnish",
    "nl": "Dutch",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
}


# --- chat ------------------------------------------------------------------------------------


class OpenAIChatProvider:
    """Chat, JSON extraction and vision through the OpenAI chat completions API."""

    name = "openai"
    composes_text = True

    def stream_chat(self, request: ChatRequest) -> ChatStream:
        """Stream an answer to `request.messages`; usage arrives with the last chunk."""
        params: dict[str, Any] = {
            "model": request.model or settings.OPENAI_CHAT_MODEL,
            "messages": request.messages,
            # `max_tokens` rather than `max_completion_tokens`: every OpenAI-compatible server
            # understands it, and the chat models we use accept it.
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        return ChatStream(self._stream(params))

    async def _stream(self, params: dict[str, Any]) -> AsyncGenerator[str | Usage, None]:
        # The raw response keeps the SDK's auth, retries (before the first byte) and status
        # errors, but skips building a pydantic model per chunk: we only need the content delta
        # and the usage, which orjson gets from the SSE lines directly. The span keeps numbers
        # in memory only (chatplatform.telemetry): nothing on this path waits for it.
        stopped: BaseException | None = None
        with telemetry.span(operation="chat", provider="openai", model=params["model"]) as span:
            done = finished = first = reported = False
            produced: list[str] = []
            try:
                async with _chat_response(params) as response:
                    chunks = response.aiter_bytes()
                    pending = b""
                    data: list[bytes] = []
                    # Deltas parsed from one network read are yielded as one piece: tokens that
                    # arrived together become one event downstream instead of one event each.
                    batch: list[str] = []
                    async for raw in chunks:
                        lines = (pending + raw).split(b"\n") if pending else raw.split(b"\n")
                        pending = lines.pop()
                        for line in lines:
                            if line.endswith(b"\r"):
                                line = line[:-1]
                            if line.startswith(b"data:"):
                                data.append(line[6:] if line[5:6] == b" " else line[5:])
                                continue
                            # A blank line ends an event; comments and other fields are not used by
                            # chat completions.
                            if line or not data:
                                continue
                            payload = data[0] if len(data) == 1 else b"\n".join(data)
                            data = []
                            if payload == b"[DONE]":
                                done = True
                                break
                            event = _load_event(payload)
                            if not first:
                                first = True
                                span.response_model(event.get("model") or "")
                            choices = event.get("choices")
                            if choices:
                                choice = choices[0]
                                delta = choice.get("delta")
                                if delta:
                                    content = delta.get("content")
                                    if content:
                                        batch.append(content)
                                if choice.get("finish_reason"):
                                    finished = True
                            usage = event.get("usage")
                            if usage:
                                reported = True
                                span.usage(
                                    input_tokens=int(usage.get("prompt_tokens") or 0),
                                    output_tokens=int(usage.get("completion_tokens") or 0),
                                )
                                yield Usage(
                                    prompt_tokens=int(usage.get("prompt_tokens") or 0),
                                    completion_tokens=int(usage.get("completion_tokens") or 0),
                                )
                            elif event.get("error"):
                                if batch:
                                    yield "".join(batch)
                                    batch = []
                                kind = error_kind(event)
                                raise ProviderError(
                                    PROVIDER_STREAM_INTERRUPTED,
                                    "The AI provider reported an error mid-answer"
                                    + (f" ({kind})." if kind else "."),
                                )
                        if batch:
                            if not produced:
                                span.first_token()
                            piece = batch[0] if len(batch) == 1 else "".join(batch)
                            produced.append(piece)
                            yield piece
                            batch = []
                        if done:
                            break
                    if done:
                        with contextlib.suppress(Exception):
                            async with asyncio.timeout(_DRAIN_SECONDS):
                                async for _ in chunks:
                                    pass
                    elif not finished:
                        raise ProviderError(
                            PROVIDER_STREAM_INTERRUPTED,
                            "The AI provider ended the answer before finishing it.",
                        )
            except ProviderError as exc:
                span.set("error.code", exc.code)
                raise
            except openai.OpenAIError as exc:
                raise _coded(span, error_from_sdk(exc)) from exc
            except httpx2.TimeoutException as exc:
                raise _coded(
                    span, ProviderError(PROVIDER_TIMEOUT, "The AI provider stopped sending the answer.")
                ) from exc
            except (AttributeError, TypeError) as exc:
                # A chunk of an "OpenAI-compatible" server with another shape than the API's.
                raise _coded(
                    span,
                    ProviderError(PROVIDER_BAD_RESPONSE, "The AI provider sent an unexpected stream chunk."),
                ) from exc
            except TRANSPORT_ERRORS as exc:
                raise _coded(
                    span,
                    ProviderError(
                        PROVIDER_STREAM_INTERRUPTED, "The connection to the AI provider broke mid-answer."
                    ),
                ) from exc
            except (GeneratorExit, asyncio.CancelledError) as exc:
                # Stopped (the shopper's stop, a shutdown): recorded as a call that went well.
                span.set("stopped", True)
                stopped = exc
            finally:
                if not reported:
                    # No usage from the provider: the recorder counts these texts off the hot path.
                    span.estimate_from(
                        input_text=_messages_text(params["messages"]), output_text="".join(produced)
                    )
        if stopped is not None:
            raise stopped

    async def complete_json(self, *, system: str, user: str, max_attempts: int = 2) -> dict[str, Any]:
        """Ask for one JSON object in JSON mode; re-ask after an invalid reply.

        Raises `provider_bad_response` when no attempt gave a JSON object.
        """
        if "json" not in f"{system} {user}".lower():
            # JSON mode is refused unless the conversation itself asks for JSON.
            system = f"{system}\n\nAnswer with one JSON object."
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        model = settings.OPENAI_CHAT_MODEL

        async def send(conversation: list[dict[str, Any]]) -> str | None:
            completion = await ainvoke(
                _json_completion,
                model,
                conversation,
                operation="json",
                provider="openai",
                model=model,
                retries=0,  # the SDK retries before the first byte (OPENAI_MAX_RETRIES)
                on_result=_completion_recorder(conversation),
            )
            return completion.choices[0].message.content if completion.choices else None

        try:
            return await ask_json(send, messages, max_attempts=max_attempts)
        except InvalidJson:
            raise ProviderError(
                PROVIDER_BAD_RESPONSE, "The AI provider did not return a valid JSON object.", retryable=False
            ) from None

    async def describe_image(self, *, image: bytes, mime_type: str, prompt: str, language: str) -> str:
        """Describe an image with the vision model, retrying transient failures."""
        language_name = _LANGUAGE_NAMES.get(language.split("-")[0].lower(), language)
        url = f"data:{mime_type};base64,{base64.b64encode(image).decode('ascii')}"
        messages = [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"{prompt}\n\nAnswer in {language_name}."},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ]
        model = settings.OPENAI_VISION_MODEL
        completion = await ainvoke(
            self._describe_once,
            model,
            messages,
            operation="vision",
            provider="openai",
            model=model,
            retries=_VISION_ATTEMPTS - 1,
            on_result=_completion_recorder(messages),
        )
        return completion.choices[0].message.content.strip()

    async def _describe_once(self, model: str, messages: list[dict[str, Any]]) -> Any:
        # `ainvoke` is the only retry layer here, so that "3 attempts" means 3 requests.
        client = clients.async_client().with_options(max_retries=0)
        try:
            completion = await client.chat.completions.create(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=_VISION_MAX_TOKENS,
            )
        except openai.OpenAIError as exc:
            raise error_from_sdk(exc) from exc
        content = completion.choices[0].message.content if completion.choices else None
        if not content or not content.strip():
            raise ProviderError(PROVIDER_BAD_RESPONSE, "The AI provider returned an empty description.")
        return completion


@contextlib.asynccontextmanager
async def _chat_response(params: dict[str, Any]) -> AsyncGenerator[httpx2.Response, None]:
    """The streamed chat completion's HTTP response, its body not read yet, closed on exit.

    `client.post` is the SDK's documented way to call an endpoint with a body of one's own:
    `chat.completions.create` would first walk the parameters against the SDK's typed
    dictionaries, about 0.5 ms of CPU per request here, for a body that is plain JSON data
    already. Authentication, retries before the first byte, timeouts and status errors are the
    SDK's all the same.
    """
    stream = await clients.async_client().post(
        "/chat/completions", body=params, cast_to=object, stream=True, stream_cls=openai.AsyncStream[object]
    )
    try:
        yield stream.response
    finally:
        await stream.response.aclose()


def _coded(span: telemetry.Call, error: ProviderError) -> ProviderError:
    span.set("error.code", error.code)
    return error


async def _json_completion(model: str, messages: list[dict[str, Any]]) -> Any:
    try:
        return await clients.async_client().chat.completions.create(
            model=model,
            messages=messages,  # type: ignore[arg-type]
            response_format={"type": "json_object"},
            temperature=0,
        )
    except openai.OpenAIError as exc:
        raise error_from_sdk(exc) from exc


def _messages_text(messages: list[dict[str, Any]]) -> str:
    """The text parts of a conversation, for counting tokens when the provider reports none."""
    parts: list[str] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(
                part["text"]
                for part in content
                if isinstance(part, dict) and isinstance(part.get("text"), str)
            )
    return "\n".join(parts)


def _completion_recorder(messages: list[dict[str, Any]]) -> Callable[[telemetry.Call, Any], None]:
    """Fills a span from a chat completion: the provider's usage and the model that answered."""

    def record(call: telemetry.Call, completion: Any) -> None:
        call.response_model(getattr(completion, "model", "") or "")
        usage = getattr(completion, "usage", None)
        if usage is not None and usage.prompt_tokens is not None:
            call.usage(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens or 0)
        else:
            choices = getattr(completion, "choices", None) or []
            content = choices[0].message.content if choices else ""
            call.estimate_from(input_text=_messages_text(messages), output_text=content or "")

    return record


def _load_event(payload: bytes) -> dict[str, Any]:
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ProviderError(
            PROVIDER_BAD_RESPONSE, "The AI provider sent an unreadable stream chunk."
        ) from exc
    if not isinstance(event, dict):
        raise ProviderError(PROVIDER_BAD_RESPONSE, "The AI provider sent an unexpected stream chunk.")
    return event


# --- embeddings ------------------------------------------------------------------------------

# The embeddings client of each chat client (so per event loop and per settings, like those).
_embedding_clients: weakref.WeakKeyDictionary[openai.AsyncOpenAI, openai.AsyncOpenAI] = (
    weakref.WeakKeyDictionary()
)


def _embeddings_client() -> openai.AsyncOpenAI:
    """The shared async client's settings with a connection pool of its own.

    The connection pool looks at every idle connection (a socket poll and a getpeername each)
    whenever a request starts or ends. An answer's embedding request is short; in the pool of the
    chat streams it left an idle connection per recent question behind, which every chat request
    and every stream's end then probed: at 100 concurrent answers that was a third of the web
    process's CPU (bench/HISTORY.md). In a pool of their own, embeddings keep few idle connections.
    """
    chat = clients.async_client()
    client = _embedding_clients.get(chat)
    if client is None:
        client = chat.with_options(
            http_client=openai.DefaultAsyncHttpxClient(
                limits=pool_limits(settings.OPENAI_MAX_CONNECTIONS), timeout=chat.timeout
            )
        )
        _embedding_clients[chat] = client
    return client


class OpenAIEmbedder:
    """Embeddings through the OpenAI embeddings API, batched, in input order."""

    name = "openai"

    def __init__(
        self,
        *,
        model: str | None = None,
        dimensions: int | None = None,
        batch_size: int = EMBEDDING_BATCH_SIZE,
    ) -> None:
        self.model = model or settings.OPENAI_EMBEDDING_MODEL
        # Only send `dimensions` when configured: older models and some compatible servers
        # reject the parameter.
        self._requested_dimensions = dimensions or settings.OPENAI_EMBEDDING_DIMENSIONS or None
        self.dimension = self._requested_dimensions or _NATIVE_EMBEDDING_DIMENSIONS.get(self.model, 1536)
        self.batch_size = batch_size
        self._queries = QueryEmbeddings(self.aembed, cache_size=settings.QUERY_EMBEDDING_CACHE_SIZE)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed texts with the sync client (Celery workers)."""
        client = clients.sync_client()
        batches = run_bounded(
            lambda batch: invoke(
                self._create_sync,
                client,
                batch,
                operation="embeddings",
                provider="openai",
                model=self.model,
                retries=0,  # the SDK retries (OPENAI_MAX_RETRIES)
                on_result=self._record,
            ),
            self._cleaned(texts),
            batch_size=self.batch_size,
            concurrency=settings.OPENAI_EMBEDDING_CONCURRENCY,
        )
        return [vector for _, vectors in batches for vector in vectors]

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        """Embed texts with the async embeddings client (`_embeddings_client`)."""
        client = _embeddings_client()
        batches = await arun_bounded(
            lambda batch: ainvoke(
                self._create_async,
                client,
                batch,
                operation="embeddings",
                provider="openai",
                model=self.model,
                retries=0,
                on_result=self._record,
            ),
            self._cleaned(texts),
            batch_size=self.batch_size,
            concurrency=settings.OPENAI_EMBEDDING_CONCURRENCY,
        )
        return [vector for _, vectors in batches for vector in vectors]

    def _create_sync(self, client: openai.OpenAI, batch: Sequence[str]) -> tuple[Any, list[list[float]]]:
        try:
            response = client.embeddings.create(**self._params(batch))
        except openai.OpenAIError as exc:
            raise error_from_sdk(exc) from exc
        return response, self._in_order(response, len(batch))

    async def _create_async(
        self, client: openai.AsyncOpenAI, batch: Sequence[str]
    ) -> tuple[Any, list[list[float]]]:
        try:
            response = await client.embeddings.create(**self._params(batch))
        except openai.OpenAIError as exc:
            raise error_from_sdk(exc) from exc
        return response, self._in_order(response, len(batch))

    @staticmethod
    def _record(call: telemetry.Call, result: tuple[Any, list[list[float]]]) -> None:
        response = result[0]
        call.response_model(getattr(response, "model", "") or "")
        usage = getattr(response, "usage", None)
        if usage is not None and usage.prompt_tokens is not None:
            call.usage(input_tokens=usage.prompt_tokens, output_tokens=0)

    async def aembed_query(self, text: str) -> np.ndarray:
        """A question's embedding: remembered by text, requested with concurrent questions."""
        return await self._queries.embed(text)

    @staticmethod
    def _cleaned(texts: list[str]) -> list[str]:
        # The API rejects empty strings; a blank text still needs its place in the output.
        return [text if text.strip() else " " for text in texts]

    def _params(self, batch: Sequence[str]) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "input": list(batch)}
        if self._requested_dimensions:
            params["dimensions"] = self._requested_dimensions
        return params

    def _in_order(self, response: Any, expected: int) -> list[list[float]]:
        vectors: list[list[float] | None] = [None] * expected
        for item in response.data:
            if not 0 <= item.index < expected:
                raise ProviderError(
                    PROVIDER_BAD_RESPONSE, "The AI provider returned an unknown embedding index."
                )
            vectors[item.index] = list(item.embedding)
        if any(vector is None for vector in vectors):
            raise ProviderError(PROVIDER_BAD_RESPONSE, "The AI provider returned too few embeddings.")
        if any(len(vector) != self.dimension for vector in vectors):  # type: ignore[arg-type]
            raise ProviderError(
                PROVIDER_BAD_RESPONSE,
                f"The embeddings do not have {self.dimension} dimensions; set OPENAI_EMBEDDING_DIMENSIONS.",
                retryable=False,
            )
        return vectors  # type: ignore[return-value]
