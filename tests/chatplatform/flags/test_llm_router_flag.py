"""The LLM router as the first flagged feature, through the real chat pipeline on the local
provider: the local provider cannot answer the LLM router, so an answer routed by the LLM says
so in its route reason ("LLM router failed (...)"), and one routed locally does not."""

import pytest
from asgiref.sync import sync_to_async

from chatplatform.flags.models import Flag, FlagOverride
from chatplatform.flags.services import flag_update
from conversations.chat.models import Message
from conversations.flows import chatbot_flows_ensure
from conversations.models import ChatbotSettings
from tests.conversations.chat_helpers import ask, connect, kb_add
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db(transaction=True)

KB = {"Shipping": "Standard delivery with GLS to a parcel shop costs 49 DKK and takes 1-3 working days."}


@pytest.fixture
def llm_router():
    # The data migration's row; a transactional test's database may have been emptied before.
    flag, _ = Flag.objects.update_or_create(
        key="llm_router", defaults={"enabled": False, "percentage": 0, "subject_kinds": ["chatbot"]}
    )
    return flag


@pytest.fixture
def shop():
    chatbot = ChatbotFactory(chatbot_id="shop", language="en", topics=[])
    chatbot_flows_ensure(chatbot=chatbot)
    kb_add(chatbot, chatbot.knowledgebase_index_endpoint, KB)
    return chatbot


async def answer_route_reason() -> str:
    comm, _ = await connect("shop")
    events = await ask(comm, "How much is shipping?")
    await comm.disconnect()
    assert events[-1]["type"] == "end", events[-1]
    answer = await sync_to_async(Message.objects.get)(id=events[-1]["message_id"])
    return answer.route_reason


async def test_with_the_flag_off_a_local_router_chatbot_routes_locally(llm_router, shop):
    reason = await answer_route_reason()

    assert "LLM" not in reason


async def test_with_the_flag_on_for_the_chatbot_it_routes_with_the_llm(llm_router, shop):
    await sync_to_async(flag_update)("llm_router", enabled=True, percentage=100)

    reason = await answer_route_reason()

    assert reason.startswith("LLM router failed (provider_not_supported)")


async def test_an_override_turns_the_llm_router_on_for_one_chatbot(llm_router, shop):
    await sync_to_async(FlagOverride.objects.create)(
        flag=llm_router, subject_kind="chatbot", subject_id="shop", enabled=True
    )

    assert (await answer_route_reason()).startswith("LLM router failed")


async def test_router_mode_llm_uses_the_llm_whatever_the_flag(llm_router, shop):
    await sync_to_async(ChatbotSettings.objects.filter(pk=shop.pk).update)(
        router_mode=ChatbotSettings.RouterMode.LLM
    )

    assert (await answer_route_reason()).startswith("LLM router failed")
