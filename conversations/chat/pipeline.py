"""The answer pipeline: route, retrieve, build the provider request, stream, apply output rules,
save. `answer_start` runs one answer as a task of this process and returns its `AnswerBuffer`,
which websocket and SSE connections subscribe to; the answer goes on when they leave.

It ends with exactly one final event, `end` once the answer is saved or `error`; an answer whose
final write fails is parked for the sweeper. The `start` event and the question's write wait for
the burst's provider requests to leave (`request_gate`), and always come before the first token.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from chatplatform import telemetry
from chatplatform.ai import get_chat_provider
from chatplatform.ai.base import ChatStream, ProviderError
from chatplatform.ai.reply_language import reply_language
from chatplatform.ai.request_gate import notify_when_written, pending_request_add
from chatplatform.flags.selectors import flag_ais_enabled
from chatplatform.monitoring.metrics import ACTIVE_STREAMS, ANSWERS, TTFT_SECONDS
from conversations import prompts
from conversations.chat.answer_buffer import AnswerBuffer, buffer_create, encode
from conversations.chat.answer_sources import kb_unavailable_stream
from conversations.chat.answer_sweeper import INTERRUPTED_CODE, INTERRUPTED_MESSAGE, outcome_park
from conversations.chat.flow_router import Route, route_embedded, route_llm, route_local
from conversations.chat.models import Message
from conversations.chat.order_answer import mentions_order_details, order_stream, uses_order_tool
from conversations.chat.output_rules import OutputRules
from conversations.chat.provider_request import chat_request
from conversations.chat.retrieval import Retrieval, sources_of
from conversations.chat.retrieval_fallback import retrieve_answering
from conversations.chat.selectors import ChatState
from conversations.chat.services import conversation_row
from conversations.chat.web_process import heartbeat_keep, on_server_shutdown
from conversations.chat.writes import AnswerOutcome, QuestionRecord, QuestionSave, answer_save
from conversations.knowledge.layouts import embedder_for, index_layout
from conversations.models import ChatbotSettings, Flow, ImageUpload

logger = logging.getLogger(__name__)

Purpose = prompts.Purpose

PROVIDER_FAILED_MESSAGE = "The answer could not be completed; please ask again."
QUESTION_NOT_SAVED = ("storage_unavailable", "Your message could not be saved; please send it again.")
ANSWER_NOT_SAVED = ("answer_not_saved", "Your answer could not be saved; please ask again.")
ANSWER_INTERRUPTED = (INTERRUPTED_CODE, INTERRUPTED_MESSAGE)


class _QuestionNotSaved(Exception):
    """The question could not be stored, so no answer may be streamed for it."""


# Answers still running in this process, with their runs; holding them keeps their tasks alive.
_running: dict[asyncio.Task, "AnswerRun"] = {}


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
    # Called once the provider request has left (`request_gate`); only the first call counts.
    mark_request_sent: Callable[[], None] = field(default=lambda: None)
    # The `start` event, once the flow is known.
    start_frame: str = ""
    # The server is stopping and this answer ran out of time (`answers_drain`).
    interrupted: bool = False
    # Its outcome is being stored and sent (`_finish`): no longer to be interrupted.
    finishing: bool = False

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
    run.mark_request_sent = pending_request_add()
    task = asyncio.get_running_loop().create_task(_answer(run), name=f"answer-{answer_id}")
    _running[task] = run
    ACTIVE_STREAMS.inc()
    task.add_done_callback(_answer_done)
    heartbeat_keep(lambda: bool(_running))
    on_server_shutdown(lambda: answers_drain(settings.CHAT_SHUTDOWN_GRACE_SECONDS))
    return run.buffer


def _answer_done(task: asyncio.Task) -> None:
    _running.pop(task, None)
    ACTIVE_STREAMS.dec()


async def answers_drain(grace: float) -> None:
    """Let the answers in flight finish within `grace` seconds; the others stop there and are
    saved as `interrupted` with what they have (their clients get `answer_interrupted`)."""
    if not _running:
        return
    logger.info("Waiting up to %.1f s for %d answer(s) in flight", grace, len(_running))
    deadline = time.monotonic() + grace
    # Answers that start meanwhile (the server still accepts until it stops) are waited for too.
    while _running and (left := deadline - time.monotonic()) > 0:
        await asyncio.wait(list(_running), timeout=left, return_when=asyncio.FIRST_COMPLETED)
    late = list(_running)
    for task in late:
        run = _running[task]
        if not run.finishing:
            run.interrupted = True
            task.cancel()
    if late:
        logger.warning("Interrupted %d answer(s) still running at shutdown", len(late))
        # Their final writes, retries included, are short; a hung database must not hold the stop.
        await asyncio.wait(late, timeout=grace + 10)


async def answer_stop(buffer: AnswerBuffer) -> None:
    """Stop an answer; what was streamed is kept and saved with status `stopped`."""
    buffer.stop_requested = True
    if buffer.stream is not None:
        await buffer.stream.aclose()


async def _route(run: AnswerRun) -> Route:
    chatbot = run.state.chatbot
    if run.state.order_tracking and mentions_order_details(
        run.question, in_order_flow=run.state.last_flow == Flow.Name.APIFLOW
    ):
        return Route(Flow.Name.APIFLOW, "the message gives order details")
    profiles = run.state.route_profiles
    # The flag rolls the LLM router out to chatbots still on the local one (an in-process check).
    if chatbot.router_mode == ChatbotSettings.RouterMode.LLM or await flag_ais_enabled(
        "llm_router", subject=("chatbot", chatbot.chatbot_id)
    ):
        template = await prompts.aprompt_template_text(chatbot_pk=chatbot.pk, purpose=Purpose.ROUTER)
        with telemetry.context(feature="routing"):
            return await route_llm(
                provider=get_chat_provider(), question=run.question, profiles=profiles, template=template
            )
    if get_chat_provider().composes_text:
        # A language model's embeddings, not hashed words (`flow_router.route_embedded`).
        with telemetry.context(feature="routing"):
            return await route_embedded(
                question=run.question,
                profiles=profiles,
                embedder=embedder_for(index_layout(chatbot).embedding_model),
            )
    return route_local(run.question, profiles)


async def _prepare(run: AnswerRun) -> tuple[Route, Retrieval, QuestionSave]:
    """Route, then retrieve; the question is saved later."""
    started = time.perf_counter()
    route = await _route(run)
    now = run.mark("route_ms", started)
    flow = next((f for f in run.state.flows if f.name == route.flow), None)
    if flow is None or uses_order_tool(run.state, route):
        retrieval = Retrieval()
    else:
        # What the shopper's image shows helps find the right chunks (a broken bottle: returns).
        query = f"{run.question} {run.image.description}" if run.image else run.question
        with telemetry.context(feature="retrieval"):
            # A weak best passage draws on the chatbot's other flows (`retrieval_fallback`).
            retrieval, route = await retrieve_answering(
                chatbot=run.state.chatbot,
                flows=run.state.flows,
                flow=flow,
                route=route,
                question=query,
                order_tracking=run.state.order_tracking,
            )
    run.mark("retrieve_ms", now)
    persist = QuestionSave(
        QuestionRecord(
            conversation_id=run.state.conversation_id,
            user_message_id=run.user_message_id,
            answer_id=run.answer_id,
            text=run.question,
            client_id=run.client_id,
            flow=route.flow,
            route_reason=route.reason,
            image_id=run.image.id if run.image else None,
            conversation=conversation_row(state=run.state),
        ),
        run.timings,
    )
    return route, retrieval, persist


async def _answer(run: AnswerRun) -> None:
    # The telemetry of the answer's calls (routing, embeddings, ...) is held back until its first
    # token has gone out, or its end: nothing is written before the first token.
    with telemetry.context(
        tenant_type="chatbot", tenant_id=run.state.chatbot.chatbot_id, feature="answer", hold=True
    ) as held:
        await _answer_stream(run, held)


async def _answer_stream(run: AnswerRun, held: telemetry.Held) -> None:
    chatbot = run.state.chatbot
    buffer = run.buffer
    rules = OutputRules(replace_exclamation_marks=chatbot.replace_exclamation_marks)
    status, error_code, error_message = Message.Status.COMPLETED, "", ""
    # The answer had to do without its knowledge base: not an error, a notice for the client.
    notice = ""
    route, retrieval, persist = Route("default", ""), Retrieval(), None
    first_token_at: float | None = None
    saved = False
    try:
        route, retrieval, persist = await _prepare(run)
        run.start_frame = encode({"type": "start", "message_id": buffer.message_id, "flow": route.flow})
        prompt_started = time.perf_counter()
        if retrieval.error_code:
            notice = retrieval.error_code
            stream = kb_unavailable_stream(reply_language(run.question, chatbot.language))
        elif uses_order_tool(run.state, route):
            stream = await order_stream(state=run.state, question=run.question, timings=run.timings)
        else:
            # Read in the background while in use (`prompts.aprompt_template_text`), the template
            # is at hand here: no turn of the event loop between the question and its request.
            template = await prompts.aprompt_template_text(
                chatbot_pk=chatbot.pk, purpose=Purpose.ANSWER, flow=route.flow
            )
            stream = get_chat_provider().stream_chat(
                chat_request(
                    state=run.state,
                    question=run.question,
                    image=run.image,
                    route=route,
                    retrieval=retrieval,
                    template=template,
                )
            )
        buffer.stream = stream
        run.mark("prompt_ms", prompt_started)
        # Both start once the first read below has written the request, and those of the answers
        # that arrived with this one have been written too (`request_gate`).
        persist.start(after_requests=lambda: buffer.publish_start(run.start_frame))
        notify_when_written(run.mark_request_sent)
        # One turn of the event loop before the first read builds the request: the answers whose
        # questions arrived in the same turn then prepare one after the other (routing, retrieval
        # and prompt run the same code on the same data, still in the CPU's caches) instead of
        # between other answers' requests. A burst's requests leave together at its end either way.
        await asyncio.sleep(0)
        if buffer.stop_requested:
            await stream.aclose()
        reading_from = time.perf_counter()
        async for delta in stream:
            if not saved:
                # The provider's own time to its first token (the first read sends the request).
                run.mark("provider_ttft_ms", reading_from)
                run.mark_request_sent()  # if the transport did not say so (no HTTP request)
                try:
                    await persist
                except Exception as exc:
                    raise _QuestionNotSaved from exc
                saved = True
            piece = rules.feed(delta)
            if piece:
                first = first_token_at is None
                if first:
                    first_token_at = time.perf_counter()
                run.parts.append(piece)
                await buffer.publish_token(piece)
                if first:
                    held.release()
        tail = rules.flush()
        if tail:
            run.parts.append(tail)
            await buffer.publish_token(tail)
        if buffer.stop_requested:
            status = Message.Status.STOPPED
    except ProviderError as exc:
        if buffer.stop_requested:  # closing the stream broke it: the client's stop stands
            status = Message.Status.STOPPED
        else:
            status, error_code, error_message = Message.Status.FAILED, exc.code, exc.message
            logger.warning("Answer %s failed: %s", buffer.message_id, exc.code)
    except _QuestionNotSaved:
        status = Message.Status.FAILED
        error_code, error_message = QUESTION_NOT_SAVED
        logger.exception("Question of answer %s could not be saved", buffer.message_id)
        await stream.aclose()
    except asyncio.CancelledError:
        if run.interrupted:
            status = Message.Status.INTERRUPTED
            error_code, error_message = ANSWER_INTERRUPTED
        else:
            status, error_code = Message.Status.FAILED, "answer_cancelled"
        raise
    except Exception:
        status, error_code = Message.Status.FAILED, "server_error"
        error_message = "Something went wrong on our side; please try again."
        logger.exception("Answer %s failed", buffer.message_id)
    finally:
        run.mark_request_sent()
        await _finish(
            run, route, retrieval, persist, status, error_code, error_message, notice, first_token_at
        )


async def _finish(
    run: AnswerRun,
    route: Route,
    retrieval: Retrieval,
    persist: QuestionSave | None,
    status: str,
    error_code: str,
    error_message: str,
    notice: str,
    first_token_at: float | None,
) -> None:
    run.finishing = True
    buffer = run.buffer
    ended = time.perf_counter()
    text = "".join(run.parts)
    usage = buffer.stream.usage if buffer.stream is not None else None
    # The provider's count when it reported one; else the token events, which may each carry
    # several provider tokens.
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
    if usage is None:
        metrics["tokens_estimated"] = True
    else:
        # Only provider streams report usage; fixed replies (order steps, notices) do not.
        metrics["provider"] = get_chat_provider().name
        metrics["output_tokens"] = usage.completion_tokens
    if first_token_at:
        metrics["stream_ms"] = round(streaming_s * 1000, 2)
    ANSWERS.labels(status).inc()
    if first_token_at:
        TTFT_SECONDS.observe(first_token_at - run.received_at)
    if notice:
        metrics["retrieval_error"] = notice  # answered without the knowledge base: why
    sources = sources_of(retrieval.chunks)
    # Stored before the final event goes out, so a client that has seen `end` reads the answer.
    saved = await _save(run, retrieval, persist, status, error_code, tokens, ttft_ms, metrics, sources)
    if saved is not True and not error_message:
        error_code, error_message = saved or ANSWER_NOT_SAVED
    if error_message:
        final = {
            "type": "error",
            "code": error_code,
            "message": error_message or PROVIDER_FAILED_MESSAGE,
            "message_id": buffer.message_id,
        }
    else:
        end_metrics = {k: metrics[k] for k in ("ttft_ms", "tokens", "tokens_per_s")}
        if usage is None:
            end_metrics["tokens_estimated"] = True
        final = {
            "type": "end",
            "message_id": buffer.message_id,
            "text": text,
            "sources": sources,
            "metrics": end_metrics,
            "status": status,
        }
        if notice and status == Message.Status.COMPLETED:
            final["notice"] = "knowledge_base_unavailable"
    run.state.last_flow = route.flow
    if final["type"] == "end" and text:
        run.state.history += [
            {"role": "user", "content": run.question},
            {"role": "assistant", "content": text},
        ]
    if run.start_frame:
        await buffer.publish_start(run.start_frame)  # if nothing has sent it yet
    await buffer.publish_final(encode(final))


async def _save(
    run, retrieval, persist, status, error_code, tokens, ttft_ms, metrics, sources
) -> bool | tuple[str, str] | None:
    """True once stored; else the error the client gets instead of `end` (None: `answer_not_saved`)."""
    if persist is None:
        return True
    try:
        await persist
        run.state.unsaved = None  # stored with the question
    except asyncio.CancelledError:
        if not run.interrupted:
            raise
        return QUESTION_NOT_SAVED  # stopped while it was being written; the sweeper sees to it
    except Exception:
        if error_code != QUESTION_NOT_SAVED[0]:
            logger.exception("Question of answer %s could not be saved", run.buffer.message_id)
        return QUESTION_NOT_SAVED
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
        parked = await outcome_park(outcome)
        logger.exception(
            "Answer %s could not be saved%s",
            run.buffer.message_id,
            "; kept in Redis for the sweeper" if parked else "",
        )
        return None
    return True
