"""A question the router sends to the wrong flow is answered from the flow whose index holds
the answer (`chat/retrieval_fallback.py`), on Pinecone and on the local store."""

import pytest

from chatplatform.vectorstores.pinecone import pinecone_cache_clear
from conversations.chat.flow_router import Route
from conversations.chat.retrieval_fallback import retrieve_answering
from conversations.flows import chatbot_flows_ensure
from tests.conversations.chat_helpers import kb_add
from tests.conversations.factories import ChatbotFactory
from tests.fakes.pinecone_server import FakePineconeServer

pytestmark = pytest.mark.django_db(transaction=True)

SHIPPING = {"Shipping": "Shipping with GLS to a parcel shop costs 49 DKK and takes 1-3 working days."}
WINES = {"Red wines": "Tenuta Rocca Barolo 2018 (Nebbiolo): roses, tar and firm tannins. 429 DKK."}


def shop(**settings):
    chatbot = ChatbotFactory(
        chatbot_id="shop",
        knowledgebase_index_endpoint="shop-general",
        flow2_knowledgebase_index="shop-wines",
        **settings,
    )
    flows = chatbot_flows_ensure(chatbot=chatbot)
    kb_add(chatbot, "shop-general", SHIPPING)
    kb_add(chatbot, "shop-wines", WINES)
    return chatbot, {flow.name: flow for flow in flows}


async def answer(chatbot, flows, question: str, routed: str = "default"):
    route = Route(routed, "routed by the test", 0.3)
    return await retrieve_answering(
        chatbot=chatbot, flows=list(flows.values()), flow=flows[routed], route=route, question=question
    )


@pytest.fixture
def pinecone(settings, pinecone_server: FakePineconeServer):
    settings.PINECONE_CONTROLLER_HOST = pinecone_server.controller_host
    settings.PINECONE_TIMEOUT_SECONDS = 2.0
    for name in ("shop-general", "shop-wines"):
        pinecone_server.create_index(name, settings.LOCAL_EMBEDDING_DIMENSION)
    pinecone_cache_clear()
    yield pinecone_server
    pinecone_cache_clear()


async def test_on_the_local_store_a_flow_whose_passages_answer_takes_over():
    chatbot, flows = await sync(shop)

    retrieval, route = await answer(chatbot, flows, "What does the Barolo cost, and which grape is it?")

    assert route.flow == "flow2"
    assert "answered" in route.reason
    assert retrieval.chunks[0].source == "Red wines"


async def test_on_the_local_store_a_well_routed_question_stays():
    chatbot, flows = await sync(shop)

    retrieval, route = await answer(chatbot, flows, "What does shipping to a parcel shop cost?")

    assert route.flow == "default"
    assert retrieval.chunks[0].source == "Shipping"


async def test_on_pinecone_other_indexes_are_asked_only_when_the_best_passage_is_weak(pinecone):
    chatbot, flows = await sync(shop, pinecone_api_key=pinecone.api_key)

    _, strong = await answer(chatbot, flows, "Shipping with GLS to a parcel shop costs 49 DKK?")
    queries_for_strong = len(pinecone.requests_to("/query"))
    _, weak = await answer(chatbot, flows, "Barolo Nebbiolo roses tar tannins")

    assert strong.flow == "default"
    assert queries_for_strong == 1
    assert weak.flow == "flow2"
    assert len(pinecone.requests_to("/query")) == 1 + 2


async def sync(function, **kwargs):
    from asgiref.sync import sync_to_async

    return await sync_to_async(function)(**kwargs)
