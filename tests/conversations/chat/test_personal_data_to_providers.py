"""No email, postcode or phone number a shopper types reaches an AI provider.

Every path runs the real `openai` SDK against the fake OpenAI server and reads what it received:
the LLM router, the question's embedding, the answer prompt with its history, and the image
description that joins the question.
"""

import orjson
import pytest
from asgiref.sync import sync_to_async

from conversations.chat.selectors import conversation_for_token
from conversations.flows import chatbot_flows_ensure
from conversations.images.services import image_upload_create
from conversations.models import ChatbotSettings
from tests.conversations.chat_helpers import ask, connect, kb_add
from tests.conversations.factories import ChatbotFactory
from tests.conversations.images.conftest import picture, upload

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "anna.jensen@example.dk"
POSTCODE = "2200"
PHONE = "21 43 65 87"
QUESTION = (
    f"Kan I levere vin til Nørrebrogade 10, {POSTCODE} København N? "
    f"Skriv til {EMAIL} eller ring på +45 {PHONE}."
)
PERSONAL = [EMAIL, POSTCODE, PHONE, PHONE.replace(" ", "")]


def leaked(requests) -> list[str]:
    """The personal details found in any of `requests`' bodies."""
    sent = orjson.dumps([request.body for request in requests]).decode()
    return [detail for detail in PERSONAL if detail in sent]


def router_requests(server):
    return [r for r in server.requests if r.body.get("response_format", {}).get("type") == "json_object"]


def embedding_requests(server, after: int):
    return [r for r in server.requests[after:] if r.path.endswith("/embeddings")]


def answer_requests(server):
    return [r for r in server.requests if r.path.endswith("/chat/completions") and r.body.get("stream")]


@pytest.fixture
def shop():
    chatbot = ChatbotFactory(chatbot_id="shop", language="da")
    chatbot_flows_ensure(chatbot=chatbot)
    return chatbot


@pytest.fixture
def knowledge(shop, openai_chat):
    kb_add(shop, shop.knowledgebase_index_endpoint, {"Levering": "Vi leverer i hele Danmark på 1-2 dage."})
    # Requests from here on are the conversation's.
    return len(openai_chat.requests)


async def test_the_llm_router_never_sees_personal_details(shop, knowledge, openai_chat):
    await sync_to_async(ChatbotSettings.objects.filter(pk=shop.pk).update)(
        router_mode=ChatbotSettings.RouterMode.LLM
    )
    openai_chat.script('{"flow": "default", "reason": "delivery"}', "Ja, vi leverer.")
    comm, _ = await connect("shop")

    events = await ask(comm, QUESTION)
    await comm.disconnect()

    assert events[-1]["type"] == "end", events[-1]
    routed = router_requests(openai_chat)
    assert len(routed) == 1
    assert "Nørrebrogade" in routed[0].body["messages"][-1]["content"]
    assert leaked(routed) == []


async def test_the_question_is_embedded_without_personal_details(shop, knowledge, openai_chat):
    openai_chat.script("Ja, vi leverer.")
    comm, _ = await connect("shop")

    events = await ask(comm, QUESTION)
    await comm.disconnect()

    assert events[-1]["type"] == "end", events[-1]
    embedded = embedding_requests(openai_chat, after=knowledge)
    # Once (the router and retrieval share it), beside the router's one of the flows' texts.
    questions = [request for request in embedded if "Nørrebrogade" in orjson.dumps(request.body).decode()]
    assert len(questions) == 1
    assert leaked(embedded) == []


async def test_the_answer_prompt_and_its_history_hold_no_personal_details(shop, knowledge, openai_chat):
    openai_chat.script("Ja, vi leverer.", "Det koster 49 kr.")
    comm, _ = await connect("shop")

    await ask(comm, QUESTION)
    events = await ask(comm, "Hvad koster det?")
    await comm.disconnect()

    assert events[-1]["type"] == "end", events[-1]
    answers = answer_requests(openai_chat)
    assert len(answers) == 2
    # The second request carries the first question as history.
    assert any("Nørrebrogade" in m["content"] for m in answers[1].body["messages"][1:-1])
    assert leaked(answers) == []


async def test_personal_details_read_off_an_image_stay_out_of_every_prompt(shop, knowledge, openai_chat):
    label = f"Et pakkelabel: Anna Jensen, {EMAIL}, {POSTCODE} København N, tlf. {PHONE}."
    openai_chat.script(label, "Vi sender en ny pakke.")
    comm, hello = await connect("shop")
    # As the widget does: the upload, by the conversation's token, comes before the first message.
    conversation = await sync_to_async(conversation_for_token)(chatbot=shop, token=hello["token"])
    image = await sync_to_async(image_upload_create)(
        chatbot=shop,
        conversation=conversation,
        uploaded_file=upload("label.png", picture("PNG"), "image/png"),
    )

    events = await ask(comm, f"Min pakke kom sådan her, ring på {PHONE}", image_id=str(image.id))
    await comm.disconnect()

    assert events[-1]["type"] == "end", events[-1]
    vision = [r for r in openai_chat.requests if not r.body.get("stream") and "messages" in r.body]
    answers = answer_requests(openai_chat)
    assert len(vision) == 1
    assert leaked(vision) == []
    assert "Et pakkelabel" in answers[-1].body["messages"][-1]["content"]
    assert leaked(answers) == []
    assert leaked(embedding_requests(openai_chat, after=knowledge)) == []
