import re

import pytest
from django.core.exceptions import ValidationError

from conversations.models import PromptTemplate
from conversations.prompts import DEFAULT_TEMPLATES, prompt_template_text
from tests.conversations.factories import ChatbotFactory
from tests.waiting import until

pytestmark = pytest.mark.django_db


def test_without_a_template_the_shipped_default_is_used():
    chatbot = ChatbotFactory()

    assert prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer") == DEFAULT_TEMPLATES["answer"]


def test_a_flow_template_wins_over_the_chatbot_wide_one_and_edits_apply_at_once():
    chatbot = ChatbotFactory()
    PromptTemplate.objects.create(chatbot=chatbot, purpose="answer", template="All flows: {context}")
    flow2 = PromptTemplate.objects.create(
        chatbot=chatbot, purpose="answer", flow="flow2", template="Wine: {context}"
    )
    assert prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer", flow="flow2") == "Wine: {context}"
    assert (
        prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer", flow="flow3") == "All flows: {context}"
    )

    flow2.template = "Vin: {context}"
    flow2.save()
    assert prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer", flow="flow2") == "Vin: {context}"

    flow2.delete()
    assert (
        prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer", flow="flow2") == "All flows: {context}"
    )


@pytest.mark.parametrize(
    ("purpose", "template", "message"),
    [
        ("answer", "Use {contxt}", "Unknown placeholder(s): {contxt}"),
        ("answer", "No context here", "must contain {context}"),
        ("answer", "Broken {context", "Write literal braces"),
        ("answer", "{context!r}", "not a plain placeholder"),
        ("image_description", "Describe {order_facts}", "Unknown placeholder"),
    ],
)
def test_templates_are_validated_when_saved(purpose, template, message):
    chatbot = ChatbotFactory()

    with pytest.raises(ValidationError, match=re.escape(message)):
        PromptTemplate(chatbot=chatbot, purpose=purpose, template=template).full_clean()


def test_only_answer_prompts_are_set_per_flow():
    chatbot = ChatbotFactory()

    with pytest.raises(ValidationError, match="Only answer prompts"):
        PromptTemplate(chatbot=chatbot, purpose="router", flow="flow2", template="{flows}").full_clean()


def test_staff_edit_templates_in_admin_with_validation(staff_client):
    chatbot = ChatbotFactory()

    bad = staff_client.post(
        "/admin/conversations/prompttemplate/add/",
        {"chatbot": chatbot.pk, "purpose": "answer", "flow": "", "template": "Hi {nme}"},
    )
    good = staff_client.post(
        "/admin/conversations/prompttemplate/add/",
        {"chatbot": chatbot.pk, "purpose": "answer", "flow": "", "template": "Hi. {context}"},
    )

    assert "Unknown placeholder(s): {nme}" in bad.content.decode()
    assert good.status_code == 302
    assert prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer") == "Hi. {context}"


@pytest.mark.django_db(transaction=True)
async def test_answers_see_an_edit_made_here_at_once_and_one_made_elsewhere_within_the_recheck_time(
    settings,
):
    from asgiref.sync import sync_to_async

    from conversations.prompts import aprompt_template_text

    settings.PROMPT_TEMPLATE_RECHECK_SECONDS = 30
    chatbot = await sync_to_async(ChatbotFactory)()
    template = await PromptTemplate.objects.acreate(chatbot=chatbot, purpose="answer", template="A:{context}")
    assert await aprompt_template_text(chatbot_pk=chatbot.pk, purpose="answer") == "A:{context}"

    # Saved in this process: the save drops what this process holds.
    template.template = "B: {context}"
    await template.asave()
    assert await aprompt_template_text(chatbot_pk=chatbot.pk, purpose="answer") == "B: {context}"

    # Saved by another web process: it reaches the shared cache, this process rechecks later.
    await PromptTemplate.objects.filter(pk=template.pk).aupdate(template="C: {context}")
    await sync_to_async(saved_elsewhere)(chatbot.pk, "answer")
    assert await aprompt_template_text(chatbot_pk=chatbot.pk, purpose="answer") == "B: {context}"
    settings.PROMPT_TEMPLATE_RECHECK_SECONDS = 0
    assert await aprompt_template_text(chatbot_pk=chatbot.pk, purpose="answer") == "C: {context}"


def saved_elsewhere(chatbot_pk: int, purpose: str) -> None:
    """What a save in another web process does to the shared cache (not to this process)."""
    from conversations import prompts

    prompts._templates.invalidate(prompts._namespace(chatbot_pk, purpose))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.mark.django_db(transaction=True)
async def test_templates_in_use_are_reread_in_the_background(redis_cache, settings, monkeypatch):
    from asgiref.sync import sync_to_async
    from channels.db import database_sync_to_async

    from conversations import prompts
    from conversations.prompts import aprompt_template_text

    settings.PROMPT_TEMPLATE_RECHECK_SECONDS = 0.2
    clock = FakeClock()
    monkeypatch.setattr(prompts, "time", clock)  # the recheck window moves only when moved here
    background_reads: list[dict] = []
    templates_read = prompts._templates_read

    def recording(texts):
        templates_read(texts)
        background_reads.append(texts)

    monkeypatch.setattr(prompts, "_templates_read", recording)
    chatbot = await sync_to_async(ChatbotFactory)()
    assert await aprompt_template_text(chatbot_pk=chatbot.pk, purpose="answer") == DEFAULT_TEMPLATES["answer"]
    reads = []
    monkeypatch.setattr(prompts._templates, "aget", lambda *args: reads.append(args))
    clock.now += 10  # past the recheck time; the background read below is what keeps it fresh
    # Another web process saves a template: its save makes the shared entry stale, its next read
    # fills it.
    key = (chatbot.pk, "answer", "")

    def save_and_read_elsewhere():
        PromptTemplate.objects.bulk_create(  # no signal: this process does not hear of it
            [PromptTemplate(chatbot=chatbot, purpose="answer", template="Elsewhere: {context}")]
        )
        saved_elsewhere(chatbot.pk, "answer")
        prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer")

    await database_sync_to_async(save_and_read_elsewhere)()
    await until(lambda: {key: "Elsewhere: {context}"} in background_reads, timeout=30)

    assert await aprompt_template_text(chatbot_pk=chatbot.pk, purpose="answer") == "Elsewhere: {context}"
    assert reads == []  # the answer itself did not wait for a read
    prompts.recent_prompt_templates_clear()  # stops the background re-reads before the loop ends


def test_an_edit_of_the_chatbot_wide_template_reaches_every_flow_that_uses_it():
    chatbot = ChatbotFactory()
    everywhere = PromptTemplate.objects.create(chatbot=chatbot, purpose="answer", template="One: {context}")
    assert prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer", flow="flow3") == "One: {context}"
    assert prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer", flow="flow4") == "One: {context}"

    everywhere.template = "Two: {context}"
    everywhere.save()

    assert prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer", flow="flow3") == "Two: {context}"
    assert prompt_template_text(chatbot_pk=chatbot.pk, purpose="answer", flow="flow4") == "Two: {context}"
    assert prompt_template_text(chatbot_pk=chatbot.pk, purpose="router") == DEFAULT_TEMPLATES["router"]
