"""Prompt templates: shipped defaults and cached loading.

Staff edits are validated when saved (`prompt_rules`) and take effect at once: the cache entry
is dropped on save and delete.
"""

import time

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from chatplatform.event_loops import CacheWatch, cache_aget
from conversations.models import PromptTemplate
from conversations.prompt_rules import Purpose

DEFAULT_TEMPLATES: dict[str, str] = {
    Purpose.ANSWER: (
        "You are the customer service assistant of {chatbot_name}. {system_prompt}\n"
        "Answer in the customer's language (the shop's language is {language}). Answer briefly and "
        "only from the context below; if it does not contain the answer, say so and suggest "
        "contacting customer service.\n\nContext ({flow_title}):\n{context}"
    ),
    Purpose.ROUTER: (
        "Pick the flow that should answer the customer's message. Flows:\n{flows}\n\n"
        'Reply with JSON only: {{"flow": "<name>", "reason": "<short reason>"}}.'
    ),
    Purpose.IMAGE_DESCRIPTION: (
        "Describe this image from a customer of {chatbot_name} in {language}, in two or three "
        "sentences: what it shows and anything relevant to a shop (product, label, damage)."
    ),
    Purpose.TOPIC_ANALYSIS: (
        "Classify the conversation into one of these topics: {topics}. Rate how well the customer "
        'was helped from 1 to 5. Reply with JSON: {{"topic": "...", "score": n, "reason": "..."}}.'
    ),
    Purpose.ORDER_EXTRACTION: (
        "Extract the order number, email and postcode the customer gave in this conversation. "
        'Reply with JSON: {{"order_number": null, "email": null, "postcode": null}}.'
    ),
    Purpose.ORDER_ANSWER: (
        "You are the customer service assistant of {chatbot_name}. Answer in {language} about the "
        "customer's order, using only these facts:\n{order_facts}"
    ),
}

CACHE_SECONDS = 600


def _cache_key(chatbot_id: int, purpose: str, flow: str) -> str:
    return f"prompt:{chatbot_id}:{purpose}:{flow}"


def prompt_template_text(*, chatbot_pk: int, purpose: str, flow: str = "") -> str:
    """The template in force: the flow's own, else the chatbot's for all flows, else the default."""
    key = _cache_key(chatbot_pk, purpose, flow)
    text = cache.get(key)
    if text is None:
        rows = dict(
            PromptTemplate.objects.filter(
                chatbot_id=chatbot_pk, purpose=purpose, flow__in={flow, ""}
            ).values_list("flow", "template")
        )
        text = rows.get(flow) or rows.get("") or DEFAULT_TEMPLATES[purpose]
        cache.set(key, text, CACHE_SECONDS)
    return text


# Templates this process read recently, for answers: key -> (monotonic time read, text).
_recent: dict[str, tuple[float, str]] = {}


def _templates_read(texts: dict[str, str | None]) -> None:
    now = time.monotonic()
    for key, text in texts.items():
        if text is None:  # dropped by a save, or expired: the next answer reads it anew
            _recent.pop(key, None)
        else:
            _recent[key] = (now, text)


# Templates that answers use are re-read in the background, so answers need not wait for them.
_template_watch = CacheWatch(_templates_read, interval=lambda: settings.PROMPT_TEMPLATE_RECHECK_SECONDS)


async def aprompt_template_text(*, chatbot_pk: int, purpose: str, flow: str = "") -> str:
    """`prompt_template_text` for answers: a template read less than
    `PROMPT_TEMPLATE_RECHECK_SECONDS` ago is used as it is (an edit saved in another process
    takes effect within that time, one saved in this process at once), and the templates in use
    are re-read in the background; otherwise the cached template is read on the event loop, and
    only a miss (or an unreadable cache) reads the database, in a thread."""
    key = _cache_key(chatbot_pk, purpose, flow)
    now = time.monotonic()
    recent = _recent.get(key)
    if recent is not None and now - recent[0] < settings.PROMPT_TEMPLATE_RECHECK_SECONDS:
        return recent[1]
    try:
        text = await cache_aget(key)
    except RedisError:
        text = None
    if text is None:
        text = await database_sync_to_async(prompt_template_text)(
            chatbot_pk=chatbot_pk, purpose=purpose, flow=flow
        )
    _recent[key] = (now, text)
    _template_watch.touch(key)
    return text


def recent_prompt_templates_clear() -> None:
    """Forget the templates this process read recently; as after a restart."""
    _recent.clear()
    _template_watch.clear()


def prompt_templates_invalidate(*, chatbot_pk: int, purpose: str) -> None:
    flows = ["", *(choice for choice, _ in PromptTemplate._meta.get_field("flow").choices)]
    keys = [_cache_key(chatbot_pk, purpose, flow) for flow in flows]
    cache.delete_many(keys)
    for key in keys:
        _recent.pop(key, None)


def prompt_render(text: str, **values: str) -> str:
    return text.format_map(values)
