"""The order-tracking flow's tool: extract, verify, look up; called by the answer pipeline.

It returns either a fixed reply (ask for what is missing, refuse, apologise) or the verified
order's facts, which the pipeline hands to the LLM (or formats itself with the local provider).
The shopper's email and postcode never leave this module.
"""

import time
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async

from chatplatform.ai import get_chat_provider
from conversations.chat.order_replies import reply
from conversations.models import ChatbotSettings
from conversations.prompts import Purpose, prompt_render, prompt_template_text
from tracking.extraction import (
    ORDER_NUMBER,
    OrderVariables,
    extract_from_text,
    extract_local,
    extract_with_llm,
)
from tracking.services import LookupOutcome, order_lookup_async


@dataclass
class ToolAnswer:
    reply: str = ""
    facts: dict[str, Any] | None = None
    outcome: str = ""
    timings: dict[str, float] = field(default_factory=dict)


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
    started = time.perf_counter()
    variables = extract_local(shopper_messages)
    provider = get_chat_provider()
    if provider.name == "openai":
        template = await database_sync_to_async(prompt_template_text)(
            chatbot_pk=chatbot.pk, purpose=Purpose.ORDER_EXTRACTION
        )
        system = prompt_render(template, chatbot_name=chatbot.name, language=chatbot.language)
        variables = await extract_with_llm(
            provider=provider, system=system, messages=shopper_messages, local=variables
        )
    answer.timings["extract_ms"] = round((time.perf_counter() - started) * 1000, 2)
    if variables.missing:
        answer.reply = reply(f"ask_{variables.missing}", chatbot.language)
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
        answer.reply = reply("too_many_attempts", chatbot.language)
    elif result.outcome == LookupOutcome.NOT_VERIFIED:
        answer.reply = reply("not_verified", chatbot.language)
    else:
        answer.reply = reply("unavailable", chatbot.language)
    return answer


__all__ = ["OrderVariables", "ToolAnswer", "mentions_order_details", "order_tool"]
