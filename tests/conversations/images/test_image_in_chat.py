"""An uploaded image referenced by `image_id` in a websocket message."""

import json

import pytest
from asgiref.sync import sync_to_async

from conversations.chat.selectors import conversation_for_token
from conversations.chat.services import conversation_create
from conversations.flows import chatbot_flows_ensure
from conversations.images.services import image_upload_create
from conversations.models import Message
from tests.conversations.chat_helpers import ask, connect, kb_add
from tests.conversations.factories import ChatbotFactory
from tests.conversations.images.conftest import picture, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop():
    chatbot = ChatbotFactory(chatbot_id="shop", language="en")
    chatbot_flows_ensure(chatbot=chatbot)
    return chatbot


async def test_the_image_description_reaches_the_prompt_and_the_question_keeps_the_image(shop, openai_chat):
    openai_server = openai_chat
    await sync_to_async(kb_add)(
        shop, shop.knowledgebase_index_endpoint, {"Returns": "Broken bottles are replaced."}
    )
    openai_server.script("A broken wine bottle with a red label.", "We replace broken bottles.")
    comm, hello = await connect("shop")
    # As the widget does: the upload, by the conversation's token, comes before the first message.
    conversation = await sync_to_async(conversation_for_token)(chatbot=shop, token=hello["token"])
    image = await sync_to_async(image_upload_create)(
        chatbot=shop,
        conversation=conversation,
        uploaded_file=upload("bottle.png", picture("PNG"), "image/png"),
    )

    events = await ask(comm, "My bottle arrived like this", image_id=str(image.id))
    await comm.disconnect()

    assert events[-1]["type"] == "end", events[-1]
    chat = [r for r in openai_server.requests if r.path.endswith("/chat/completions")][-1]
    user_message = chat.body["messages"][-1]["content"]
    assert "My bottle arrived like this" in user_message
    assert "A broken wine bottle with a red label." in user_message
    question = await sync_to_async(Message.objects.get)(conversation_id=hello["id"], role="user")
    assert question.image_id == image.id
    answer = await sync_to_async(Message.objects.get)(id=events[-1]["message_id"])
    assert answer.metrics["image_description_ms"] >= 0


async def test_an_image_of_another_conversation_is_refused(shop):
    other, _ = await sync_to_async(conversation_create)(chatbot=shop)
    image = await sync_to_async(image_upload_create)(
        chatbot=shop, conversation=other, uploaded_file=upload("x.png", picture("PNG"), "image/png")
    )
    comm, _ = await connect("shop")

    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Look", "image_id": str(image.id)}))
    error = await comm.receive_json_from()
    await comm.disconnect()

    assert error["type"] == "error"
    assert error["code"] == "image_not_found"


async def test_an_unknown_image_id_is_refused_and_the_socket_stays_usable(shop):
    comm, _ = await connect("shop")

    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Look", "image_id": "nope"}))
    error = await comm.receive_json_from()
    events = await ask(comm, "Hello?")
    await comm.disconnect()

    assert error["code"] == "image_not_found"
    assert events[-1]["type"] == "end"
