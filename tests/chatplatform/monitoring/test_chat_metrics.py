"""The chat's metric points: open websockets, active streams, answers by status, time to first
token; and LLM tokens from telemetry spans."""

import pytest

from chatplatform import telemetry
from chatplatform.monitoring.metrics import ACTIVE_STREAMS, ANSWERS, LLM_TOKENS, OPEN_WEBSOCKETS, TTFT_SECONDS
from tests.conversations.chat_helpers import ask, connect, kb_add
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db(transaction=True)

KB = {"Shipping": "Standard delivery with GLS to a parcel shop costs 49 DKK and takes 1-3 working days."}


def value(metric) -> float:
    return metric._value.get()


@pytest.fixture
def chatbot():
    bot = ChatbotFactory(chatbot_id="metrics-shop", language="en", topics=[])
    from conversations.flows import chatbot_flows_ensure

    chatbot_flows_ensure(chatbot=bot)
    kb_add(bot, bot.knowledgebase_index_endpoint, KB)
    kb_add(bot, bot.flow2_knowledgebase_index, KB)
    return bot


async def test_an_answer_counts_its_socket_stream_status_and_first_token(chatbot):
    sockets, streams = value(OPEN_WEBSOCKETS), value(ACTIVE_STREAMS)
    completed = value(ANSWERS.labels("completed"))
    ttft_sum = TTFT_SECONDS._sum.get()

    comm, _ = await connect("metrics-shop")
    open_while_connected = value(OPEN_WEBSOCKETS)
    events = await ask(comm, "How much is shipping?")
    await comm.disconnect()

    assert events[-1]["type"] == "end"
    assert open_while_connected == sockets + 1
    assert value(OPEN_WEBSOCKETS) == sockets
    assert value(ANSWERS.labels("completed")) == completed + 1
    assert TTFT_SECONDS._sum.get() > ttft_sum
    assert value(ACTIVE_STREAMS) == streams  # the answer's task has ended


def test_spans_count_llm_tokens_by_model_feature_and_kind():
    before_in = value(LLM_TOKENS.labels("metrics-model", "answer", "input"))
    before_out = value(LLM_TOKENS.labels("metrics-model", "answer", "output"))

    with (
        telemetry.context(tenant_type="chatbot", tenant_id="shop", feature="answer"),
        telemetry.span(operation="chat", provider="local", model="metrics-model") as call,
    ):
        call.usage(input_tokens=12, output_tokens=40, estimated=False)

    assert value(LLM_TOKENS.labels("metrics-model", "answer", "input")) == before_in + 12
    assert value(LLM_TOKENS.labels("metrics-model", "answer", "output")) == before_out + 40
