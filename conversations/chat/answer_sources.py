"""The answers that do not come from the knowledge-base prompt: a fixed text streamed word by
word (the knowledge base could not be consulted; an order reply of the local provider) and the
order-tracking flow, which looks the order up and has the LLM tell its verified facts."""

import orjson

from chatplatform.ai import get_chat_provider
from chatplatform.ai.base import ChatRequest, ChatStream
from chatplatform.personal_data import redact_personal
from conversations import prompts
from conversations.chat.flow_router import Route
from conversations.chat.order_answer import order_tool
from conversations.chat.order_replies import order_answer_text
from conversations.chat.selectors import ChatState
from conversations.models import Flow

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


def text_stream(text: str) -> ChatStream:
    async def words():
        pieces = text.split(" ")
        for word in pieces[:-1]:
            yield word + " "
        yield pieces[-1]

    return ChatStream(words())


def kb_unavailable_stream(language: str) -> ChatStream:
    return text_stream(KB_UNAVAILABLE.get(language, KB_UNAVAILABLE["en"]))


def uses_order_tool(state: ChatState, route: Route) -> bool:
    return route.flow == Flow.Name.APIFLOW and state.order_tracking


async def order_stream(*, state: ChatState, question: str, timings: dict[str, float]) -> ChatStream:
    """A fixed reply (what the shopper still has to give, or why the order cannot be shown), or
    the LLM told the verified order's facts; the tool's phases go into `timings`."""
    chatbot = state.chatbot
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
    if provider.name == "local":
        return text_stream(order_answer_text(tool.facts, chatbot.language))
    template = await prompts.aprompt_template_text(
        chatbot_pk=chatbot.pk, purpose=prompts.Purpose.ORDER_ANSWER
    )
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
                {"role": "user", "content": redact_personal(question)},
            ],
            question=question,
            context=[],
            language=chatbot.language,
            max_tokens=chatbot.max_answer_tokens,
        )
    )
