"""Rating answers up or down, over REST and the chat socket: one rating per answer, refusals with
stable codes."""

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from analytics.models import AnswerRating, ConversationInsight
from conversations.chat.models import Message
from conversations.services import chatbot_api_key_create
from tests.analytics.factories import answer, ask, conversation_make
from tests.conversations.chat_helpers import ask as ask_live
from tests.conversations.chat_helpers import connect
from tests.conversations.factories import ChatbotFactory


def url(chatbot_id, conversation, message_id) -> str:
    return f"/api/v1/chatbots/{chatbot_id}/conversations/{conversation.id}/messages/{message_id}/rating/"


@pytest.fixture
def shop():
    bot = ChatbotFactory(chatbot_id="rate-shop", language="en")
    _, key = chatbot_api_key_create(chatbot_id="rate-shop", name="tests")
    conversation, messages = conversation_make(
        bot,
        [ask("Where is my parcel?"), answer("It left our warehouse today.")],
        start=timezone.now() - timedelta(minutes=5),
    )
    return bot, {"HTTP_AUTHORIZATION": f"Api-Key {key}"}, conversation, messages


@pytest.mark.django_db
def test_rating_an_answer_again_replaces_the_value_and_counts_on_the_insight(client, shop):
    _, auth, conversation, (_, reply) = shop
    first = client.post(
        url("rate-shop", conversation, reply.id), {"value": "down"}, "application/json", **auth
    )
    assert first.status_code == 200
    assert first.json()["value"] == "down"
    again = client.post(url("rate-shop", conversation, reply.id), {"value": "up"}, "application/json", **auth)
    assert again.status_code == 200
    assert again.json()["message_id"] == str(reply.id)

    assert list(AnswerRating.objects.values_list("value", flat=True)) == ["up"]
    insight = ConversationInsight.objects.get(conversation=conversation)
    assert (insight.ratings_up, insight.ratings_down, insight.resolution) == (1, 0, "confirmed")


@pytest.mark.django_db
def test_bad_ratings_get_stable_codes_and_store_nothing(client, shop):
    bot, auth, conversation, (question, reply) = shop
    other, (_, other_reply) = conversation_make(
        bot, [ask("Hi"), answer("Hello!")], start=timezone.now() - timedelta(minutes=3)
    )
    cases = [
        (reply.id, {"value": "meh"}, 400, "invalid_rating"),
        (reply.id, {}, 400, "invalid_rating"),
        (question.id, {"value": "up"}, 400, "message_not_an_answer"),
        ("00000000-0000-0000-0000-000000000000", {"value": "up"}, 404, "message_not_found"),
        ("not-a-uuid", {"value": "up"}, 404, "message_not_found"),
        (other_reply.id, {"value": "up"}, 404, "message_not_found"),
    ]
    for message_id, body, status, code in cases:
        response = client.post(url("rate-shop", conversation, message_id), body, "application/json", **auth)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), message_id
    unknown = client.post(
        url("rate-shop", other, reply.id).replace(str(other.id), "nope"), {"value": "up"}, **auth
    )
    assert unknown.json()["error"]["code"] == "conversation_not_found"
    assert not AnswerRating.objects.exists()


@pytest.mark.django_db
def test_anonymous_callers_and_other_chatbots_keys_cannot_rate(client, shop):
    _, _, conversation, (_, reply) = shop
    ChatbotFactory(chatbot_id="other-shop")
    _, other_key = chatbot_api_key_create(chatbot_id="other-shop", name="tests")
    anonymous = client.post(url("rate-shop", conversation, reply.id), {"value": "up"}, "application/json")
    assert anonymous.status_code in (401, 403)
    foreign = client.post(
        url("rate-shop", conversation, reply.id),
        {"value": "up"},
        "application/json",
        HTTP_AUTHORIZATION=f"Api-Key {other_key}",
    )
    assert foreign.status_code == 403
    assert not AnswerRating.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_the_socket_rates_with_an_ack_and_refuses_with_an_error_frame():
    from conversations.flows import chatbot_flows_ensure

    bot = await sync_to_async(ChatbotFactory)(chatbot_id="socket-rate-shop", language="en")
    await sync_to_async(chatbot_flows_ensure)(chatbot=bot)
    comm, _ = await connect("socket-rate-shop")
    events = await ask_live(comm, "Do you deliver on Saturdays?")
    answer_id = events[-1]["message_id"]
    question_id = str((await Message.objects.aget(reply__id=answer_id)).id)

    frames = [
        {"type": "rating", "message_id": answer_id, "value": "up"},
        {"type": "rating", "message_id": answer_id, "value": "down"},
        {"type": "rating", "message_id": question_id, "value": "up"},
        {"type": "rating", "message_id": answer_id, "value": "sideways"},
        {"type": "rating", "message_id": "00000000-0000-0000-0000-000000000000", "value": "up"},
    ]
    replies = []
    for frame in frames:
        await comm.send_to(text_data=json.dumps(frame))
        replies.append(await comm.receive_json_from(timeout=5))
    await comm.disconnect()

    assert replies[0] == {"type": "rated", "message_id": answer_id, "value": "up"}
    assert replies[1] == {"type": "rated", "message_id": answer_id, "value": "down"}
    assert [(r["type"], r["code"]) for r in replies[2:]] == [
        ("error", "message_not_an_answer"),
        ("error", "invalid_rating"),
        ("error", "message_not_found"),
    ]
    assert await sync_to_async(list)(AnswerRating.objects.values_list("value", flat=True)) == ["down"]
