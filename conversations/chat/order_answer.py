"""The order flow of the chat: extract the order variables, let tracking verify and look the
order up, and answer as a stream beside the provider's.

The answer is a fixed reply (ask for what is missing, refuse, apologise) or the verified order's
facts told by the LLM (formatted here when the provider does not compose text). Tracking returns
facts; the words are the chat's (`order_replies`).
"""

import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from channels.db import database_sync_to_async

from chatplatform.ai import get_chat_provider
from chatplatform.ai.base import ChatRequest, ChatStream
from chatplatform.ai.reply_language import conversation_language
from chatplatform.personal_data import redact_personal
from conversations.chat.answer_sources import text_stream
from conversations.chat.flow_router import Route
from conversations.chat.order_replies import order_answer_text, reply
from conversations.chat.selectors import ChatState
from conversations.chat.services import conversation_save
from conversations.models import ChatbotSettings, Flow
from conversations.prompts import Purpose, aprompt_template_text, prompt_render, prompt_template_text
from tracking.extraction import (
    ORDER_NUMBER,
    extract_from_text,
    extract_local,
    extract_with_llm,
)
from tracking.services import LookupOutcome, order_lookup_async, order_number_format_for


@dataclass
class ToolAnswer:
    reply: str = ""
    facts: dict[str, Any] | None = None
    outcome: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    language: str = ""


def mentions_order_details(text: str, *, in_order_flow: bool) -> bool:
    """Should this message go to order tracking regardless of the router?

    An order number always does; an email or postcode does when the bot just asked for one.
    """
    if ORDER_NUMBER.search(text) and extract_from_text(text).order_number:
        return True
    if in_order_flow:
        found = extract_from_text(text)
        return bool(found.email or found.postcode)
    return False


async def order_tool(
    *,
    chatbot: ChatbotSettings,
    shopper_messages: list[str],
    conversation_id: str,
    ip: str,
) -> ToolAnswer:
    """Answer an order question from the shopper's messages so far (the newest last)."""
    answer = ToolAnswer()
    # Replies in the shopper's language: a bare "NV-100234" keeps the one they wrote in before.
    language = conversation_language(shopper_messages, chatbot.language)
    answer.language = language
    started = time.perf_counter()
    # The shop's declared order-number format finds "NV 100 234" and "100234" as NV-100234.
    number_format = await database_sync_to_async(order_number_format_for)(chatbot)
    variables = extract_local(shopper_messages, order_number_format=number_format)
    provider = get_chat_provider()
    if provider.composes_text:
        template = await database_sync_to_async(prompt_template_text)(
            chatbot_pk=chatbot.pk, purpose=Purpose.ORDER_EXTRACTION
        )
        system = prompt_render(template, chatbot_name=chatbot.name, language=chatbot.language)
        variables = await extract_with_llm(
            provider=provider,
            system=system,
            messages=shopper_messages,
            local=variables,
            order_number_format=number_format,
        )
    answer.timings["extract_ms"] = round((time.perf_counter() - started) * 1000, 2)
    if variables.missing:
        answer.reply = reply(f"ask_{variables.missing}", language)
        answer.outcome = f"ask_{variables.missing}"
        return answer
    started = time.perf_counter()
    result = await order_lookup_async(
        chatbot=chatbot, variables=variables, conversation_id=conversation_id, ip=ip
    )
    answer.timings["lookup_ms"] = round((time.perf_counter() - started) * 1000, 2)
    answer.outcome = result.outcome
    if result.outcome == LookupOutcome.VERIFIED and result.order is not None:
        answer.facts = result.order.facts()
    elif result.outcome == LookupOutcome.TOO_MANY_ATTEMPTS:
        answer.reply = reply("too_many_attempts", language)
    elif result.outcome == LookupOutcome.NOT_VERIFIED:
        answer.reply = reply("not_verified", language)
    else:
        answer.reply = reply("unavailable", language)
    return answer


def uses_order_tool(state: ChatState, route: Route) -> bool:
    return route.flow == Flow.Name.APIFLOW and state.order_tracking


async def order_stream(*, state: ChatState, question: str, timings: dict[str, float]) -> ChatStream:
    """A fixed reply (what the shopper still has to give, or why the order cannot be shown), or
    the LLM told the verified order's facts; the tool's phases go into `timings`."""
    chatbot = state.chatbot
    if state.unsaved is not None:
        # The lookup's record refers to the conversation, whose row would otherwise come with
        # the question's write after this stream starts; a lookup is not that hurried.
        await database_sync_to_async(conversation_save)(state=state)
    shopper = [m["content"] for m in state.history if m["role"] == "user"] + [question]
    tool = await order_tool(
        chatbot=chatbot,
        shopper_messages=shopper,
        conversation_id=str(state.conversation_id),
        ip=state.client_ip,
    )
    timings.update(tool.timings)
    if tool.facts is None:
        return text_stream(tool.reply)
    provider = get_chat_provider()
    if not provider.composes_text:
        return text_stream(order_answer_text(tool.facts, tool.language))
    template = await aprompt_template_text(chatbot_pk=chatbot.pk, purpose=Purpose.ORDER_ANSWER)
    system = prompt_render(
        template,
        chatbot_name=chatbot.name,
        language=tool.language,
        order_facts=orjson.dumps(tool.facts).decode(),
    )
    return provider.stream_chat(
        ChatRequest(
            messages=[
                {"role": "system", "content": system},
                {"role": "user", "content": redact_personal(question)},
            ],
            question=question,
            context=[],
            language=tool.language,
            max_tokens=chatbot.max_answer_tokens,
        )
    )
