"""One streamed answer through the real ASGI app: its embeddings and chat calls are recorded
with their tokens, and none of its records is delivered (let alone written) before its first
token. The provider calls are wired through `telemetry.span` in `chatplatform/ai`."""

import pytest
from asgiref.sync import sync_to_async

from chatplatform import telemetry
from chatplatform.telemetry.models import CallRecord
from conversations.chat import pipeline
from tests.conversations.chat_helpers import ask, connect, kb_add
from tests.conversations.factories import ChatbotFactory
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)

KB = {"Storage": "An opened bottle of still wine keeps for 2-4 days in the refrigerator, corked."}


@pytest.fixture
def chatbot(openai_chat):
    bot = ChatbotFactory(chatbot_id="telemetry-shop", language="en", topics=[])
    from conversations.flows import chatbot_flows_ensure

    chatbot_flows_ensure(chatbot=bot)
    kb_add(bot, bot.knowledgebase_index_endpoint, KB)
    kb_add(bot, bot.flow2_knowledgebase_index, KB)
    return bot


async def test_a_streamed_answer_records_its_calls_and_none_before_its_first_token(openai_chat, chatbot):
    openai_chat.script(Reply(tokens=["It ", "keeps ", "2-4 ", "days."], usage=(210, 6)))
    delivered = []

    def watch(record):
        # How many tokens the answer had sent when this record was let go.
        sent = max((len(run.buffer.tokens) for run in pipeline._running.values()), default=None)
        delivered.append((record, sent))

    unsubscribe = telemetry.subscribe(watch)
    try:
        comm, _ = await connect("telemetry-shop")
        events = await ask(comm, "How long can I keep an opened bottle of wine?")
        await comm.disconnect()
    finally:
        unsubscribe()
    assert events[-1]["type"] == "end"

    answer_records = [(r, sent) for r, sent in delivered if r.tenant_id == "telemetry-shop"]
    assert answer_records
    assert all(sent for _, sent in answer_records)  # none before the first token

    assert await sync_to_async(telemetry.flush_now)()
    rows = await sync_to_async(list)(CallRecord.objects.filter(tenant_id="telemetry-shop"))
    by_operation = {row.operation: row for row in rows}
    embeddings, chat = by_operation["embeddings"], by_operation["chat"]
    # With a language model the question is embedded once, to route it; retrieval reuses it.
    assert (embeddings.tenant_type, embeddings.feature) == ("chatbot", "routing")
    assert embeddings.input_tokens > 0
    assert (chat.feature, chat.provider, chat.outcome) == ("answer", "openai", "ok")
    assert (chat.input_tokens, chat.output_tokens, chat.usage_estimated) == (210, 6, False)
    assert chat.ttft_ms is not None
    assert chat.request_model
