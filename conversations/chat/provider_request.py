"""The provider request of a knowledge-base answer: the flow's system prompt with the retrieved
context, the conversation's history trimmed to the chatbot's token budget, and the question
(with what the shopper's image shows), personal details redacted."""

from chatplatform.ai.base import ChatRequest
from chatplatform.ai.reply_language import reply_language
from chatplatform.llm_tokens import trim_history
from chatplatform.personal_data import redact_personal
from conversations import prompts
from conversations.chat.flow_router import Route
from conversations.chat.retrieval import Retrieval
from conversations.chat.selectors import ChatState
from conversations.images.services import image_prompt_context
from conversations.models import ImageUpload


def system_prompt(state: ChatState, route: Route, retrieval: Retrieval, template: str) -> str:
    chatbot = state.chatbot
    flow = next((f for f in state.flows if f.name == route.flow), None)
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


def chat_request(
    *,
    state: ChatState,
    question: str,
    image: ImageUpload | None,
    route: Route,
    retrieval: Retrieval,
    template: str,
) -> ChatRequest:
    chatbot = state.chatbot
    history = trim_history(state.history, budget=chatbot.history_token_budget)
    # Emails, phone numbers and postcodes a shopper typed (for an order lookup, say) never reach
    # the LLM, nor those the vision model read off the shopper's image (a parcel label).
    asked = redact_personal(question)
    if image is not None:
        asked = f"{asked}\n\n{redact_personal(image_prompt_context(upload=image))}"
    messages = [
        {"role": "system", "content": system_prompt(state, route, retrieval, template)},
        *({"role": m["role"], "content": redact_personal(m["content"])} for m in history),
        {"role": "user", "content": asked},
    ]
    return ChatRequest(
        messages=messages,
        question=question,
        context=retrieval.chunks,
        # Fixed replies of the provider ("not found") in the shopper's language.
        language=reply_language(question, chatbot.language),
        max_tokens=chatbot.max_answer_tokens,
    )
