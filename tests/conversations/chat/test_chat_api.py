"""REST chat: conversations and messages, answered as JSON or as server-sent events."""

import json
from datetime import timedelta

import pytest
from django.test import AsyncClient
from django.utils import timezone

from conversations.chat.models import Conversation, Message
from conversations.services import chatbot_api_key_create
from tests.conversations.chat_helpers import kb_add
from tests.conversations.factories import ChatbotFactory
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)

KB = {"Shipping": "Standard delivery with GLS to a parcel shop costs 49 DKK and takes 1-3 working days."}


@pytest.fixture
def shop():
    from conversations.flows import chatbot_flows_ensure

    bot = ChatbotFactory(chatbot_id="shop", language="en")
    chatbot_flows_ensure(chatbot=bot)
    kb_add(bot, bot.knowledgebase_index_endpoint, KB)
    kb_add(bot, bot.flow2_knowledgebase_index, KB)
    _, key = chatbot_api_key_create(chatbot_id="shop", name="tests")
    return bot, {"HTTP_AUTHORIZATION": f"Api-Key {key}"}


def new_conversation(client, auth) -> str:
    response = client.post("/api/v1/chatbots/shop/conversations/", **auth)
    assert response.status_code == 201
    assert response.json()["token"]
    return response.json()["id"]


def test_it_answers_a_question_as_json_and_stores_it(client, shop):
    _, auth = shop
    conversation_id = new_conversation(client, auth)

    response = client.post(
        f"/api/v1/chatbots/shop/conversations/{conversation_id}/messages/",
        {"text": "How much is shipping to a parcel shop?"},
        content_type="application/json",
        **auth,
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert "49 DKK" in body["text"]
    assert body["sources"][0]["title"] == "Shipping"
    assert body["status"] == "completed"
    assert body["flow"]
    detail = client.get(f"/api/v1/chatbots/shop/conversations/{conversation_id}/", **auth).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][1]["text"] == body["text"]


async def test_it_streams_the_websocket_events_as_server_sent_events(shop):
    _, auth = shop
    headers = {"Authorization": auth["HTTP_AUTHORIZATION"]}
    client = AsyncClient()
    created = await client.post("/api/v1/chatbots/shop/conversations/", headers=headers)
    conversation_id = created.json()["id"]

    response = await client.post(
        f"/api/v1/chatbots/shop/conversations/{conversation_id}/messages/",
        {"text": "How much is shipping?"},
        content_type="application/json",
        headers={**headers, "Accept": "text/event-stream"},
    )
    raw = b"".join([chunk async for chunk in response.streaming_content]).decode()

    assert response["Content-Type"] == "text/event-stream"
    blocks = [block for block in raw.split("\n\n") if block]
    names = [block.split("\n")[0].removeprefix("event: ") for block in blocks]
    events = [json.loads(block.split("\n")[1].removeprefix("data: ")) for block in blocks]
    assert names[0] == "start"
    assert names[-1] == "end"
    assert set(names[1:-1]) == {"token"}
    assert [e["seq"] for e in events[1:-1]] == list(range(1, len(events) - 1))
    assert events[-1]["text"] == "".join(e["text"] for e in events[1:-1])


def test_a_provider_failure_is_a_clear_error_and_keeps_the_question(client, shop, openai_chat):
    openai_server = openai_chat
    bot, auth = shop
    bot.knowledgebase_index_endpoint = ""
    bot.flow2_knowledgebase_index = ""
    bot.save()
    openai_server.script(Reply(status=503), times=3)
    conversation_id = new_conversation(client, auth)

    response = client.post(
        f"/api/v1/chatbots/shop/conversations/{conversation_id}/messages/",
        {"text": "Hello"},
        content_type="application/json",
        **auth,
    )

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "provider_unavailable"
    assert Message.objects.filter(conversation_id=conversation_id, role="user").count() == 1
    assert Message.objects.get(conversation_id=conversation_id, role="assistant").status == "failed"


@pytest.mark.parametrize(
    ("payload", "code", "status"),
    [
        ({}, "invalid", 400),
        ({"text": ""}, "invalid", 400),
        ({"text": "x" * 3000}, "invalid", 400),
        ({"text": "hi", "image_id": "nope"}, "image_not_found", 404),
    ],
)
def test_bad_questions_get_stable_codes(client, shop, payload, code, status):
    _, auth = shop
    conversation_id = new_conversation(client, auth)

    response = client.post(
        f"/api/v1/chatbots/shop/conversations/{conversation_id}/messages/",
        payload,
        content_type="application/json",
        **auth,
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not Message.objects.filter(conversation_id=conversation_id).exists()


def test_an_unknown_conversation_is_404(client, shop):
    _, auth = shop

    for conversation_id in ["00000000-0000-0000-0000-000000000000", "not-a-uuid"]:
        response = client.get(f"/api/v1/chatbots/shop/conversations/{conversation_id}/", **auth)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "conversation_not_found"


def test_another_chatbots_key_cannot_read_or_write_its_conversations(client, shop):
    _, auth = shop
    conversation_id = new_conversation(client, auth)
    ChatbotFactory(chatbot_id="rival")
    _, rival_key = chatbot_api_key_create(chatbot_id="rival", name="rival")
    rival = {"HTTP_AUTHORIZATION": f"Api-Key {rival_key}"}

    read = client.get(f"/api/v1/chatbots/shop/conversations/{conversation_id}/", **rival)
    cross = client.get(f"/api/v1/chatbots/rival/conversations/{conversation_id}/", **rival)

    assert read.status_code == 403
    assert cross.status_code == 404


def test_a_repeated_client_id_is_refused(client, shop):
    _, auth = shop
    conversation_id = new_conversation(client, auth)
    url = f"/api/v1/chatbots/shop/conversations/{conversation_id}/messages/"
    first = client.post(
        url, {"text": "How much is shipping?", "client_id": "abc"}, content_type="application/json", **auth
    )

    second = client.post(
        url, {"text": "How much is shipping?", "client_id": "abc"}, content_type="application/json", **auth
    )

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "duplicate_message"


def test_rest_questions_count_against_the_addresss_limit_like_the_websockets(client, shop, settings):
    # One intake for both edges: the per-address message limit holds over REST too.
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 1
    _, auth = shop
    conversation_id = new_conversation(client, auth)
    url = f"/api/v1/chatbots/shop/conversations/{conversation_id}/messages/"

    first = client.post(url, {"text": "How much is shipping?"}, content_type="application/json", **auth)
    second = client.post(url, {"text": "And to Sweden?"}, content_type="application/json", **auth)

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "rate_limited"
    assert Message.objects.filter(role=Message.Role.USER).count() == 1


def test_a_chatbot_deactivated_in_admin_takes_no_more_rest_questions(client, shop):
    bot, auth = shop
    conversation_id = new_conversation(client, auth)
    url = f"/api/v1/chatbots/shop/conversations/{conversation_id}/messages/"
    assert client.post(url, {"text": "Shipping?"}, content_type="application/json", **auth).status_code == 200

    bot.is_active = False
    bot.save()
    response = client.post(url, {"text": "Shipping?"}, content_type="application/json", **auth)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "chatbot_not_found"


def test_a_conversations_messages_come_in_pages_newest_last(client, shop):
    _, auth = shop
    conversation_id = new_conversation(client, auth)
    conversation = Conversation.objects.get(pk=conversation_id)
    start = timezone.now() - timedelta(hours=1)
    for n in range(60):
        message = Message.objects.create(conversation=conversation, role="user", text=f"question {n}")
        # Stored out of order on purpose: pages follow the time of each message.
        Message.objects.filter(pk=message.pk).update(created_at=start + timedelta(seconds=(n * 7) % 60))
    url = f"/api/v1/chatbots/shop/conversations/{conversation_id}/"

    first = client.get(url, **auth).json()
    second = client.get(first["next"], **auth).json()

    texts = [m["text"] for m in first["messages"] + second["messages"]]
    assert len(first["messages"]) == 50
    assert texts == [f"question {n}" for n in sorted(range(60), key=lambda n: (n * 7) % 60)]
    assert second["next"] is None
    assert second["id"] == conversation_id
    small = client.get(url, {"page_size": 7}, **auth).json()
    assert len(small["messages"]) == 7
