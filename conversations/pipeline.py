"""The answer pipeline: route, retrieve, prompt, stream, apply output rules, persist.

`answer_start` launches one answer as a task of this process and returns its `AnswerBuffer`;
websocket and SSE connections subscribe to the buffer. The task keeps going when its client goes
away (so a reconnecting client can resume) and ends with exactly one final event: `end`, or
`error` after a provider failure. Every phase is timed.

The question is saved while the provider prepares the first token (the write starts once the
request is on its way, so that its database round trips do not compete with routing and retrieval
for the interpreter) and always before the first token goes out; the answer is saved once, at the
end, also when stopped or failed.
"""

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field

import orjson

from chatplatform.ai import get_chat_provider
from chatplatform.ai.base import ChatRequest, ChatStream, ProviderError
from chatplatform.tokens import trim_history
from conversations import prompts
from conversations.answer_buffer import AnswerBuffer, buffer_create, encode
from conversations.chat_store import AnswerOutcome, ChatState, QuestionRecord
from conversations.chat_writes import answer_save, question_save
from conversations.flow_router import Route, flow_profiles, route_llm, route_local
from conversations.images.services import image_prompt_context
from conversations.models import ChatbotSettings, Flow, ImageUpload, Message
from conversations.output_rules import OutputRules
from conversations.request_gate import request_preparing, request_sent, requests_sent
from conversations.retrieval import Retrieval, retrieve, sources_of
from tracking.extraction import redact_personal
from tracking.replies import order_answer_text
from tracking.tool import mentions_order_details, order_tool

logger = logging.getLogger(__name__)

Purpose = prompts.Purpose

KB_UNAVAILABLE = {
    "da": "Beklager, jeg kan ikke slå op i vores vidensbase lige nu. Prøv igen om lidt, eller "
    "kontakt vores kundeservice.",
    "en": "Sorry, I cannot consult our knowledge base right now. Please try again in a moment or "
    "contact our customer service.",
    "sv": "Tyvärr kan jag inte slå upp i vår kunskapsbas just nu. Försök igen om en stund eller "
    "kontakta vår kundtjänst.",
    "de": "Leider kann ich unsere Wissensdatenbank gerade nicht abfragen. Bitte versuchen Sie es "
    "gleich noch einmal oder wenden Sie sich an unseren Kundenservice.",
}
PROVIDER_FAILED_MESSAGE = "The answer could not be completed; please ask again."


class _QuestionNotSaved(Exception):
    """The question could not be stored, so no answer may be streamed for it."""


# Answers still running in this process; holding them keeps their tasks alive.
_running: set[asyncio.Task] = set()


@dataclass
class AnswerRun:
    """The live state of one answer, for timing and the final record."""

    state: ChatState
    buffer: AnswerBuffer
    question: str
    client_id: str
    received_at: float
    answer_id: uuid.UUID = field(default_factory=uuid.uuid4)
    user_message_id: uuid.UUID = field(default_factory=uuid.uuid4)
    timings: dict[str, float] = field(default_factory=dict)
    parts: list[str] = field(default_factory=list)
    stream: ChatStream | None = None
    image: ImageUpload | None = None

    def mark(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[phase] = round((now - since) * 1000, 2)
        return now


def answer_start(
    *, state: ChatState, question: str, client_id: str = "", image: ImageUpload | None = None
) -> AnswerBuffer:
    """Start answering `question` (with the shopper's described image, if any) in the
    background and return the answer's buffer."""
    answer_id = uuid.uuid4()
    run = AnswerRun(
        state=state,
        buffer=buffer_create(str(answer_id), state.conversation_id),
        question=question,
        client_id=client_id,
        received_at=time.perf_counter(),
        answer_id=answer_id,
        image=image,
    )
    if image is not None and image.description_ms is not None:
        # Described when uploaded; its own phase in the answer's metrics.
        run.timings["image_description_ms"] = round(image.description_ms, 2)
    if client_id:
        state.answers_by_client_id[client_id] = str(answer_id)
    request_preparing()
    task = asyncio.get_running_loop().create_task(_answer(run), name=f"answer-{answer_id}")
    _running.add(task)
    task.add_done_callback(_running.discard)
    return run.buffer


async def answer_stop(buffer: AnswerBuffer) -> None:
    """Stop an answer; what was streamed is kept and saved with status `stopped`."""
    buffer.stop_requested.set()
    if buffer.stream is not None:
        await buffer.stream.aclose()


async def _route(run: AnswerRun) -> Route:
    chatbot = run.state.chatbot
    if run.state.order_tracking and mentions_order_details(
        run.question, in_order_flow=run.state.last_flow == Flow.Name.APIFLOW
    ):
        return Route(Flow.Name.APIFLOW, "the message gives order details")
    profiles = flow_profiles(chatbot, run.state.flows, order_tracking=run.state.order_tracking)
    if chatbot.router_mode == ChatbotSettings.RouterMode.LLM:
        template = await prompts.aprompt_template_text(chatbot_pk=chatbot.pk, purpose=Purpose.ROUTER)
        return await route_llm(
            provider=get_chat_provider(), question=run.question, profiles=profiles, template=template
        )
    return route_local(run.question, profiles)


def _system_prompt(run: AnswerRun, route: Route, retrieval: Retrieval, template: str) -> str:
    chatbot = run.state.chatbot
    flow = next((f for f in run.state.flows if f.name == route.flow), None)
    context = "\n\n".join(
        f"[{n}] {chunk.source}: {chunk.text}" for n, chunk in enumerate(retrieval.chunks, start=1)
    )
    return prompts.prompt_render(
        template,
        chatbot_name=chatbot.name,
        system_prompt=chatbot.system_prompt,
        language=chatbot.language,
        context=context or "(nothing relevant was found in the knowledge base)",
        flow_title=(flow.title if flow else route.flow),
    )


def _request(run: AnswerRun, route: Route, retrieval: Retrieval, template: str) -> ChatRequest:
    chatbot = run.state.chatbot
    history = trim_history(run.state.history, budget=chatbot.history_token_budget)
    # Emails and postcodes a shopper typed (for an order lookup) never reach the LLM.
    question = redact_personal(run.question)
    if run.image is not None:
        question = f"{question}\n\n{image_prompt_context(upload=run.image)}"
    messages = [
        {"role": "system", "content": _system_prompt(run, route, retrieval, template)},
        *({"role": m["role"], "content": redact_personal(m["content"])} for m in history),
        {"role": "user", "content": question},
    ]
    return ChatRequest(
        messages=messages,
        question=run.question,
        context=retrieval.chunks,
        language=chatbot.language,
        max_tokens=chatbot.max_answer_tokens,
    )


async def _text_stream(text: str) -> ChatStream:
    async def words():
        pieces = text.split(" ")
        for word in pieces[:-1]:
            yield word + " "
        yield pieces[-1]

    return ChatStream(words())


def _uses_order_tool(run: AnswerRun, route: Route) -> bool:
    return route.flow == Flow.Name.APIFLOW and run.state.order_tracking


async def _order_stream(run: AnswerRun) -> ChatStream:
    """The order-tracking flow: a fixed reply, or the LLM told the verified order's facts."""
    chatbot = run.state.chatbot
    shopper = [m["content"] for m in run.state.history if m["role"] == "user"] + [run.question]
    tool = await order_tool(
        chatbot=chatbot,
        shopper_messages=shopper,
        conversation_id=str(run.state.conversation_id),
        ip=run.state.client_ip,
    )
    run.timings.update(tool.timings)
    if tool.facts is None:
        return await _text_stream(tool.reply)
    provider = get_chat_provider()
    if provider.name == "local":
        return await _text_stream(order_answer_text(tool.facts, chatbot.language))
    template = await prompts.aprompt_template_text(chatbot_pk=chatbot.pk, purpose=Purpose.ORDER_ANSWER)
    system = prompts.prompt_render(
        template,
        chatbot_name=chatbot.name,
        language=chatbot.language,
        order_facts=orjson.dumps(tool.facts).decode(),
    )
    return provider.stream_chat(
        ChatRequest(
            messages=[
                {"role": "system", "content": system},
                {"role": "user", "content": redact_personal(run.question)},
            ],
            question=run.question,
            context=[],
            language=chatbot.language,
            max_tokens=chatbot.max_answer_tokens,
        )
    )


class _QuestionSave:
    """The question's write: started by `start()` (or when first awaited), awaited once or more;
    its duration is the answer's `question_save_ms`."""

    def __init__(self, record: QuestionRecord, timings: dict[str, float]) -> None:
        self._record = record
        self._timings = timings
        self._future: asyncio.Future | None = None

    def start(self) -> None:
        if self._future is None:
            started = time.perf_counter()
            self._future = asyncio.ensure_future(self._write_after_requests())
            self._future.add_done_callback(
                lambda _: self._timings.__setitem__(
                    "question_save_ms", round((time.perf_counter() - started) * 1000, 2)
                )
            )

    async def _write_after_requests(self) -> None:
        await requests_sent()
        await question_save(self._record)

    def __await__(self):
        self.start()
        return self._future.__await__()


async def _prepare(run: AnswerRun) -> tuple[Route, Retrieval, _QuestionSave]:
    """Route, then retrieve; the question is saved later."""
    started = time.perf_counter()
    route = await _route(run)
    now = run.mark("route_ms", started)
    persist = _QuestionSave(
        QuestionRecord(
            conversation_id=run.state.conversation_id,
            user_message_id=run.user_message_id,
            answer_id=run.answer_id,
            text=run.question,
            client_id=run.client_id,
            flow=route.flow,
            route_reason=route.reason,
            image_id=run.image.id if run.image else None,
        ),
        run.timings,
    )
    flow = next((f for f in run.state.flows if f.name == route.flow), None)
    if flow is None or _uses_order_tool(run, route):
        retrieval = Retrieval()
    else:
        # What the shopper's image shows helps find the right chunks (a broken bottle: returns).
        query = f"{run.question} {run.image.description}" if run.image else run.question
        retrieval = await retrieve(chatbot=run.state.chatbot, flow=flow, question=query)
    run.mark("retrieve_ms", now)
    return route, retrieval, persist


async def _answer(run: AnswerRun) -> None:
    chatbot = run.state.chatbot
    buffer = run.buffer
    rules = OutputRules(replace_exclamation_marks=chatbot.replace_exclamation_marks)
    status, error_code, error_message = Message.Status.COMPLETED, "", ""
    route, retrieval, persist = Route("default", ""), Retrieval(), None
    first_token_at: float | None = None
    saved = False
    preparing = True
    try:
        route, retrieval, persist = await _prepare(run)
        await buffer.publish_start(
            encode({"type": "start", "message_id": buffer.message_id, "flow": route.flow})
        )
        prompt_started = time.perf_counter()
        if retrieval.error_code:
            error_code = retrieval.error_code
            stream = await _text_stream(KB_UNAVAILABLE.get(chatbot.language, KB_UNAVAILABLE["en"]))
        elif _uses_order_tool(run, route):
            stream = await _order_stream(run)
        else:
            # Read in the background while in use (`prompts.aprompt_template_text`), the template
            # is at hand here: no turn of the event loop between the question and its request.
            template = await prompts.aprompt_template_text(
                chatbot_pk=chatbot.pk, purpose=Purpose.ANSWER, flow=route.flow
            )
            stream = get_chat_provider().stream_chat(_request(run, route, retrieval, template))
        buffer.stream = stream
        run.mark("prompt_ms", prompt_started)
        # Starts once the first read below has sent the request, and those of answers that
        # arrived with this one have left too (`request_gate`).
        persist.start()
        request_sent()
        preparing = False
        if buffer.stop_requested.is_set():
            await stream.aclose()
        async for delta in stream:
            if not saved:
                try:
                    await persist
                except Exception as exc:
                    raise _QuestionNotSaved from exc
                saved = True
            piece = rules.feed(delta)
            if piece:
                if first_token_at is None:
                    first_token_at = time.perf_counter()
                run.parts.append(piece)
                await buffer.publish_token(piece)
        tail = rules.flush()
        if tail:
            run.parts.append(tail)
            await buffer.publish_token(tail)
        if buffer.stop_requested.is_set():
            status = Message.Status.STOPPED
    except ProviderError as exc:
        status, error_code, error_message = Message.Status.FAILED, exc.code, exc.message
        logger.warning("Answer %s failed: %s", buffer.message_id, exc.code)
    except _QuestionNotSaved:
        status, error_code = Message.Status.FAILED, "storage_unavailable"
        error_message = "Your message could not be saved; please send it again."
        logger.exception("Question of answer %s could not be saved", buffer.message_id)
        await stream.aclose()
    except asyncio.CancelledError:
        status, error_code = Message.Status.FAILED, "answer_cancelled"
        raise
    except Exception:
        status, error_code = Message.Status.FAILED, "server_error"
        error_message = "Something went wrong on our side; please try again."
        logger.exception("Answer %s failed", buffer.message_id)
    finally:
        if preparing:
            request_sent()
        await _finish(run, route, retrieval, persist, status, error_code, error_message, first_token_at)


async def _finish(
    run: AnswerRun,
    route: Route,
    retrieval: Retrieval,
    persist: _QuestionSave | None,
    status: str,
    error_code: str,
    error_message: str,
    first_token_at: float | None,
) -> None:
    buffer = run.buffer
    ended = time.perf_counter()
    text = "".join(run.parts)
    usage = buffer.stream.usage if buffer.stream is not None else None
    tokens = usage.completion_tokens if usage else len(buffer.tokens)
    ttft_ms = round((first_token_at - run.received_at) * 1000, 2) if first_token_at else None
    streaming_s = (ended - first_token_at) if first_token_at else 0.0
    metrics = {
        "ttft_ms": ttft_ms,
        "tokens": tokens,
        "tokens_per_s": round(tokens / streaming_s, 1) if streaming_s > 0 else None,
        "total_ms": round((ended - run.received_at) * 1000, 2),
        **run.timings,
    }
    sources = sources_of(retrieval.chunks)
    if status == Message.Status.FAILED and error_message:
        final = {
            "type": "error",
            "code": error_code,
            "message": error_message or PROVIDER_FAILED_MESSAGE,
            "message_id": buffer.message_id,
        }
    else:
        final = {
            "type": "end",
            "message_id": buffer.message_id,
            "text": text,
            "sources": sources,
            "metrics": {k: metrics[k] for k in ("ttft_ms", "tokens", "tokens_per_s")},
            "status": status,
        }
        if error_code:
            final["notice"] = "knowledge_base_unavailable"
    run.state.last_flow = route.flow
    if status != Message.Status.FAILED and text:
        run.state.history += [
            {"role": "user", "content": run.question},
            {"role": "assistant", "content": text},
        ]
    # Saved before the final event goes out, so a client that has seen `end` reads the answer.
    await _save(run, retrieval, persist, status, error_code, tokens, ttft_ms, metrics, sources)
    await buffer.publish_final(encode(final))


async def _save(run, retrieval, persist, status, error_code, tokens, ttft_ms, metrics, sources) -> None:
    if persist is None:
        return
    try:
        await persist
    except Exception:
        if error_code != "storage_unavailable":
            logger.exception("Question of answer %s could not be saved", run.buffer.message_id)
        return
    context = [
        {
            "id": chunk.metadata.get("id", ""),
            "index": retrieval.index_name,
            "source": chunk.source,
            "score": chunk.score,
            "text": chunk.text,
        }
        for chunk in retrieval.chunks
    ]
    outcome = AnswerOutcome(
        answer_id=run.buffer.message_id,
        conversation_id=run.state.conversation_id,
        text="".join(run.parts),
        status=status,
        sources=sources,
        error_code=error_code,
        token_count=tokens,
        event_count=len(run.buffer.tokens),
        ttft_ms=ttft_ms,
        metrics=metrics,
        context=context,
    )
    try:
        await answer_save(outcome)
    except Exception:
        logger.exception("Answer %s could not be saved", run.buffer.message_id)
