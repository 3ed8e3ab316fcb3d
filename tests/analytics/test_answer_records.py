"""Each answer's performance record and its conversation's insight, written by the task that
follows the answer's final write: never before the first token."""

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from analytics.models import ConversationInsight, ProcessingMetrics
from conversations.chat.answer_buffer import AnswerBuffer
from tests.conversations.chat_helpers import ask, connect, kb_add
from tests.conversations.factories import ChatbotFactory
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)

KB = {"Delivery": "We deliver with GLS to a parcel shop in 1-3 working days; it costs 49 DKK."}


def shop_make(chatbot_id: str, *, kb: bool = True, only_flow: str | None = None):
    """A shop with the default flows, or with only `only_flow` enabled, so that where a question
    goes does not hang on the router's weighing of the others."""
    from conversations.chat.chatbot_configs import chatbot_configs_changed
    from conversations.flows import chatbot_flows_ensure

    bot = ChatbotFactory(chatbot_id=chatbot_id, language="en", topics=["Delivery", "Other"])
    chatbot_flows_ensure(chatbot=bot)
    if only_flow is not None:
        bot.flows.exclude(name=only_flow).update(is_enabled=False)
        chatbot_configs_changed()
    if kb:
        kb_add(bot, bot.knowledgebase_index_endpoint, KB)
        kb_add(bot, bot.flow2_knowledgebase_index, KB)
    return bot


def analytics_rows() -> int:
    return ProcessingMetrics.objects.count() + ConversationInsight.objects.count()


async def test_no_analytics_row_exists_when_the_first_token_goes_out(monkeypatch):
    await sync_to_async(shop_make)("first-token-shop")
    seen_at_first_token = []
    publish_token = AnswerBuffer.publish_token

    async def counting(self, text):
        if not self.tokens:
            # The answer waits here until the rows are counted: the moment its first token goes out.
            seen_at_first_token.append(await database_sync_to_async(analytics_rows)())
        return await publish_token(self, text)

    monkeypatch.setattr(AnswerBuffer, "publish_token", counting)
    comm, _ = await connect("first-token-shop")
    first = await ask(comm, "How long does delivery take?")
    second = await ask(comm, "And what does delivery cost?")
    await comm.disconnect()

    assert first[-1]["type"] == second[-1]["type"] == "end"
    # Before the first answer's first token nothing; before the second's only the first's rows.
    assert seen_at_first_token == [0, 2]
    assert await database_sync_to_async(analytics_rows)() == 3  # two records, one insight


async def test_an_openai_answer_records_its_phases_usage_and_speed(openai_chat):
    await sync_to_async(shop_make)("phases-shop", only_flow="default")
    openai_chat.script(Reply(tokens=["GLS ", "takes ", "1-3 ", "days."], usage=(180, 5)))
    comm, _ = await connect("phases-shop")
    events = await ask(comm, "How long does delivery take?")
    await comm.disconnect()

    record = await ProcessingMetrics.objects.select_related("chatbot").aget(
        answer_id=events[-1]["message_id"]
    )
    assert (record.chatbot.chatbot_id, record.flow, record.status, record.error_code) == (
        "phases-shop",
        "default",
        "completed",
        "",
    )
    assert (record.provider, record.model, record.output_tokens) == ("openai", "gpt-4o-mini", 5)
    for phase in (
        "route_ms",
        "retrieve_ms",
        "prompt_ms",
        "provider_ttft_ms",
        "stream_ms",
        "ttft_ms",
        "total_ms",
    ):
        assert getattr(record, phase) is not None, phase
    assert record.order_lookup_ms is None
    assert record.image_ms is None
    assert record.tokens_per_s == events[-1]["metrics"]["tokens_per_s"]
    assert record.ttft_ms <= record.total_ms
    assert not record.not_found


async def test_a_failed_answer_is_recorded_with_its_error_code(openai_chat):
    await sync_to_async(shop_make)("failing-shop")
    openai_chat.script(Reply(tokens=["GLS ", "takes ", "1-3 ", "days."], cut_after=2))
    comm, _ = await connect("failing-shop")
    events = await ask(comm, "How long does delivery take?")
    await comm.disconnect()

    assert events[-1]["type"] == "error"
    record = await ProcessingMetrics.objects.aget(answer_id=events[-1]["message_id"])
    assert (record.status, record.error_code) == ("failed", "provider_stream_interrupted")


async def test_a_not_found_reply_is_marked_and_counted_on_the_insight():
    await sync_to_async(shop_make)("empty-shop", kb=False)
    comm, _ = await connect("empty-shop")
    events = await ask(comm, "Do you sell gift cards?")
    await comm.disconnect()

    record = await ProcessingMetrics.objects.aget(answer_id=events[-1]["message_id"])
    assert record.not_found
    insight = await ConversationInsight.objects.aget(conversation_id=record.conversation_id)
    assert (insight.questions, insight.answers, insight.not_found_answers) == (1, 1, 1)
    assert (insight.resolution, insight.topic, insight.score) == ("open", "", None)
    assert insight.visitor
    assert "@" not in insight.visitor
