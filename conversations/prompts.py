"""Prompt templates: shipped defaults and cached loading.

Staff edits are validated when saved (`prompt_rules`) and take effect at once: a save or delete
makes the cached templates of that chatbot and purpose stale (`chatplatform.calls.cache`).
"""

import time
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from chatplatform.calls.cache import namespaced_cache
from chatplatform.event_loops import CacheWatch
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

# A chatbot's templates of one purpose are one namespace: a save makes every flow's entry stale.
_templates = namespaced_cache("prompt", ttl=CACHE_SECONDS)

TemplateKey = tuple[int, str, str]
"""(chatbot pk, purpose, flow)"""


def _namespace(chatbot_pk: int, purpose: str) -> str:
    return f"{chatbot_pk}:{purpose}"


def prompt_template_text(*, chatbot_pk: int, purpose: str, flow: str = "") -> str:
    """The template in force: the flow's own, else the chatbot's for all flows, else the default."""

    def read() -> str:
        rows = dict(
            PromptTemplate.objects.filter(
                chatbot_id=chatbot_pk, purpose=purpose, flow__in={flow, ""}
            ).values_list("flow", "template")
        )
        return rows.get(flow) or rows.get("") or DEFAULT_TEMPLATES[purpose]

    return _templates.get_or_set(_namespace(chatbot_pk, purpose), flow, read)


# Templates this process read recently, for answers: key -> (monotonic time read, text).
_recent: dict[TemplateKey, tuple[float, str]] = {}
# Entry key in the cache -> template, of the templates kept fresh in the background.
_watched: dict[str, TemplateKey] = {}


def _templates_read(texts: dict[TemplateKey, str | None]) -> None:
    now = time.monotonic()
    for key, text in texts.items():
        if text is None:  # made stale by a save, or expired: the next answer reads it anew
            _recent.pop(key, None)
        else:
            _recent[key] = (now, text)


def _entries_read(found: dict[str, Any]) -> None:
    texts = {}
    for entry_key, key in _watched.copy().items():
        if entry_key in found:
            token = found.get(_templates.version_key(_namespace(*key[:2])))
            texts[key] = _templates.unpack(found[entry_key], token)
    _templates_read(texts)


# Templates that answers use are re-read in the background (their entries and namespace tokens,
# one MGET), so answers need not wait for them.
_template_watch = CacheWatch(_entries_read, interval=lambda: settings.PROMPT_TEMPLATE_RECHECK_SECONDS)


async def aprompt_template_text(*, chatbot_pk: int, purpose: str, flow: str = "") -> str:
    """`prompt_template_text` for answers: a template read less than
    `PROMPT_TEMPLATE_RECHECK_SECONDS` ago is used as it is (an edit saved in another process
    takes effect within that time, one saved in this process at once), and the templates in use
    are re-read in the background; otherwise the cached template is read on the event loop, and
    only a miss (or an unreadable cache) reads the database, in a thread."""
    key = (chatbot_pk, purpose, flow)
    now = time.monotonic()
    recent = _recent.get(key)
    if recent is not None and now - recent[0] < settings.PROMPT_TEMPLATE_RECHECK_SECONDS:
        return recent[1]
    namespace = _namespace(chatbot_pk, purpose)
    text = await _templates.aget(namespace, flow)
    if text is None:
        text = await database_sync_to_async(prompt_template_text)(
            chatbot_pk=chatbot_pk, purpose=purpose, flow=flow
        )
    _recent[key] = (now, text)
    entry_key = _templates.entry_key(namespace, flow)
    _watched[entry_key] = key
    # The entry first: the token, touched after it, stops being watched after it too.
    _template_watch.touch(entry_key)
    _template_watch.touch(_templates.version_key(namespace))
    return text


def recent_prompt_templates_clear() -> None:
    """Forget the templates this process read recently; as after a restart."""
    _recent.clear()
    _watched.clear()
    _template_watch.clear()


def prompt_templates_invalidate(*, chatbot_pk: int, purpose: str) -> None:
    """Make a chatbot's templates of `purpose` stale in every process; at once in this one."""
    _templates.invalidate(_namespace(chatbot_pk, purpose))
    for flow in ["", *(choice for choice, _ in PromptTemplate._meta.get_field("flow").choices)]:
        _recent.pop((chatbot_pk, purpose, flow), None)


def prompt_render(text: str, **values: str) -> str:
    return text.format_map(values)
