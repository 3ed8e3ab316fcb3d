"""The chat websocket through the real ASGI application (WebsocketCommunicator)."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from chatplatform.ai import request_gate
from chatplatform.ai.request_gate import pending_request_add
from conversations.chat.models import ContextChunk, Conversation, Message, StreamingSession
from tests.conversations.chat_helpers import (
    ask,
    communicator,
    connect,
    events_until_final,
    kb_add,
    seqs,
    streamed_text,
)
from tests.conversations.factories import ChatbotFactory
from tests.fakes.openai_server import Reply
from tests.waiting import until

pytestmark = pytest.mark.django_db(transaction=True)

KB = {
    "Shipping": "Standard delivery with GLS to a parcel shop costs 49 DKK and takes 1-3 working days.",
    "Storage": "An opened bottle of still wine keeps for 2-4 days in the refrigerator with the cork back in.",
}


@pytest.fixture
def chatbot():
    bot = ChatbotFactory(chatbot_id="shop", language="en", topics=[])
    from conversations.flows import chatbot_flows_ensure

    chatbot_flows_ensure(chatbot=bot)
    kb_add(bot, bot.knowledgebase_index_endpoint, KB)
    kb_add(bot, bot.flow2_knowledgebase_index, KB)
    return bot


async def test_it_opens_a_conversation_and_answers_from_the_knowledge_base(chatbot):
    comm, hello = await connect("shop")

    events = await ask(comm, "How long can I keep an opened bottle of wine?")

    assert hello["type"] == "conversation"
    assert hello["token"]
    start, end = events[0], events[-1]
    assert start["type"] == "start"
    assert start["flow"] in {"default", "flow2"}
    assert end["type"] == "end"
    assert end["message_id"] == start["message_id"]
    assert seqs(events) == list(range(1, len(seqs(events)) + 1))
    assert end["text"] == streamed_text(events)
    assert "2-4 days" in end["text"]
    assert end["sources"][0]["title"] == "Storage"
    assert end["metrics"]["tokens"] > 0
    assert end["metrics"]["ttft_ms"] > 0
    await comm.disconnect()

    answer = await sync_to_async(Message.objects.get)(id=end["message_id"])
    assert answer.status == "completed"
    assert answer.text == end["text"]
    assert answer.flow == start["flow"]
    assert answer.route_reason
    session = await sync_to_async(StreamingSession.objects.get)(message=answer)
    assert session.status == "completed"
    assert session.token_count == end["metrics"]["tokens"]
    chunks = await sync_to_async(list)(
        ContextChunk.objects.filter(message=answer).values_list("source", flat=True)
    )
    assert "Storage" in chunks


async def test_a_conversation_resumes_by_its_token(chatbot):
    comm, hello = await connect("shop")
    await ask(comm, "How much is shipping?")
    await comm.disconnect()

    again, resumed = await connect("shop", token=hello["token"])

    assert resumed["id"] == hello["id"]
    assert resumed["token"] == hello["token"]
    await ask(again, "And how long can I keep an opened bottle?")
    await again.disconnect()
    assert await sync_to_async(Message.objects.filter(conversation_id=hello["id"]).count)() == 4


async def test_a_wrong_conversation_token_starts_a_new_conversation(chatbot):
    comm = communicator("shop", token="not-a-real-token")
    await comm.connect()

    error = await comm.receive_json_from()
    hello = await comm.receive_json_from()

    assert error["code"] == "invalid_conversation_token"
    assert hello["type"] == "conversation"
    await comm.disconnect()


async def test_a_token_of_another_chatbot_is_refused(chatbot):
    await sync_to_async(ChatbotFactory)(chatbot_id="other")
    comm, hello = await connect("other")
    await comm.disconnect()

    comm = communicator("shop", token=hello["token"])
    await comm.connect()
    assert (await comm.receive_json_from())["code"] == "invalid_conversation_token"
    assert (await comm.receive_json_from())["id"] != hello["id"]
    await comm.disconnect()


async def test_an_unknown_chatbot_is_a_fatal_error(db):
    comm = communicator("nobody")
    await comm.connect()

    error = await comm.receive_json_from()

    assert error == {"type": "error", "code": "chatbot_not_found", "message": "There is no chatbot 'nobody'."}
    assert (await comm.receive_output())["type"] == "websocket.close"


async def test_a_foreign_origin_is_refused(chatbot):
    comm = communicator("shop", origin="https://evil.example")
    await comm.connect()

    error = await comm.receive_json_from()

    assert error["code"] == "origin_not_allowed"
    assert (await comm.receive_output())["type"] == "websocket.close"


async def test_listed_origins_are_allowed(chatbot):
    chatbot.allowed_origins = ["https://shop.example"]
    await sync_to_async(chatbot.save)()

    allowed, hello = await connect("shop", origin="https://shop.example")
    refused = communicator("shop", origin="http://testserver")
    await refused.connect()

    assert hello["type"] == "conversation"
    assert (await refused.receive_json_from())["code"] == "origin_not_allowed"
    await allowed.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "malformed_json"),
        ("[1, 2]", "malformed_event"),
        ('{"type": "dance"}', "unknown_event_type"),
        ('{"type": "message", "text": "   "}', "empty_message"),
        ('{"type": "message"}', "empty_message"),
        (json.dumps({"type": "message", "text": "x" * 3000}), "message_too_long"),
        ('{"type": "message", "text": "hi", "client_id": 5}', "invalid_client_id"),
        ('{"type": "resume", "message_id": 7}', "malformed_event"),
        ('{"type": "resume", "message_id": "not-a-uuid", "after_seq": 0}', "malformed_event"),
        (json.dumps({"type": "message", "text": "x" * 20000}), "frame_too_large"),
        ('{"type": "message", "text": "hi\\u0000there"}', "invalid_characters"),
        ('{"type": "message", "text": "hi", "client_id": "c\\u0000"}', "invalid_characters"),
        ('{"type": "message", "text": "hi", "image_id": "\\u0000"}', "invalid_characters"),
        ('{"type": "stop", "\\u0000": 1}', "invalid_characters"),
        pytest.param(
            '{"type": "stop", "deep": ' + "[" * 1000 + '"\\u0000"' + "]" * 1000 + "}",
            "invalid_characters",
            id="nested-nul",
        ),
        ('{"type": "resume", "message_id": "00000000-0000-0000-0000-000000000000"}', "resume_not_available"),
    ],
)
async def test_bad_input_gets_its_code_and_the_socket_stays_usable(chatbot, frame, code):
    comm, _ = await connect("shop")

    await comm.send_to(text_data=frame)
    error = await comm.receive_json_from()
    events = await ask(comm, "How much is shipping?")

    assert error["type"] == "error"
    assert error["code"] == code
    assert events[-1]["type"] == "end"
    await comm.disconnect()


async def test_a_client_id_makes_a_resent_message_idempotent(chatbot):
    comm, hello = await connect("shop")
    first = await ask(comm, "How much is shipping?", client_id="c-1")
    await comm.disconnect()

    again, _ = await connect("shop", token=hello["token"])
    second = await ask(again, "How much is shipping?", client_id="c-1")
    await again.disconnect()

    assert second[-1]["message_id"] == first[-1]["message_id"]
    assert second[-1]["text"] == first[-1]["text"]
    count = await sync_to_async(Message.objects.filter(conversation_id=hello["id"], role="user").count)()
    assert count == 1


async def test_stop_keeps_what_was_streamed(openai_chat, chatbot):
    openai_chat.script(Reply(tokens=[f"w{n} " for n in range(50)], interval=0.05))
    comm, _ = await connect("shop")
    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Tell me everything"}))
    assert (await comm.receive_json_from())["type"] == "start"
    for _ in range(3):
        assert (await comm.receive_json_from())["type"] == "token"

    await comm.send_to(text_data=json.dumps({"type": "stop"}))
    events = await events_until_final(comm)

    end = events[-1]
    assert end["type"] == "end"
    assert end["status"] == "stopped"
    assert end["text"].startswith("w0 w1 w2 ")
    assert len(end["text"].split()) < 50
    answer = await sync_to_async(Message.objects.get)(id=end["message_id"])
    assert answer.status == "stopped"
    assert answer.text == end["text"]
    await comm.disconnect()


async def test_the_start_event_waits_until_the_requests_of_the_burst_have_been_written(
    openai_chat, chatbot, monkeypatch
):
    monkeypatch.setattr(request_gate, "MAX_WAIT", 5.0)  # a slow machine must not reach the cap
    openai_chat.script("On its way.", first_token_delay=0.2)
    comm, _ = await connect("shop")
    other_answer_sent = pending_request_add()  # an answer of the same burst, still preparing
    try:
        await comm.send_to(text_data=json.dumps({"type": "message", "text": "How much is shipping?"}))
        await until(lambda: any(r.path.endswith("/chat/completions") for r in openai_chat.requests))
        # This answer's request has reached the provider; its start event still waits.
        assert await comm.receive_nothing(timeout=0.1)
    finally:
        other_answer_sent()

    events = await events_until_final(comm)

    assert [event["type"] for event in events[:2]] == ["start", "token"]
    assert events[-1]["text"] == "On its way."
    await comm.disconnect()


async def test_an_answer_stopped_before_its_request_still_starts_and_ends(openai_chat, chatbot):
    openai_chat.script("Never read.", first_token_delay=0.5)
    comm, _ = await connect("shop")
    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Hello?"}))
    await comm.send_to(text_data=json.dumps({"type": "stop"}))

    events = await events_until_final(comm)

    assert [event["type"] for event in events] == ["start", "end"]
    assert events[-1]["status"] == "stopped"
    await comm.disconnect()


async def test_a_reconnecting_client_resumes_without_gaps(openai_chat, chatbot):
    tokens = [f"t{n} " for n in range(30)]
    openai_chat.script(Reply(tokens=tokens, interval=0.03))
    comm, hello = await connect("shop")
    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Count for me"}))
    start = await comm.receive_json_from()
    seen = [await comm.receive_json_from() for _ in range(4)]
    await comm.disconnect()
    await asyncio.sleep(0.1)

    again, _ = await connect("shop", token=hello["token"])
    await again.send_to(
        text_data=json.dumps(
            {"type": "resume", "message_id": start["message_id"], "after_seq": seen[-1]["seq"]}
        )
    )
    rest = await events_until_final(again)
    await again.disconnect()

    all_tokens = seen + [event for event in rest if event["type"] == "token"]
    assert seqs(all_tokens) == list(range(1, len(all_tokens) + 1))
    assert streamed_text(all_tokens) == "".join(tokens)
    assert rest[-1]["type"] == "end"
    assert rest[-1]["text"] == "".join(tokens)


async def test_a_provider_failure_is_an_error_and_the_conversation_goes_on(openai_chat, chatbot):
    openai_chat.script(Reply(status=500), times=3)
    openai_chat.script("Fine now.")
    comm, _ = await connect("shop")

    failed = await ask(comm, "Hello?")
    recovered = await ask(comm, "Hello again?")

    assert failed[-1]["type"] == "error"
    assert failed[-1]["code"] == "provider_unavailable"
    assert recovered[-1]["type"] == "end"
    assert recovered[-1]["text"] == "Fine now."
    answer = await sync_to_async(Message.objects.get)(id=failed[-1]["message_id"])
    assert answer.status == "failed"
    assert answer.error_code == "provider_unavailable"
    await comm.disconnect()


async def test_a_stream_cut_midway_keeps_the_partial_answer_as_failed(openai_chat, chatbot):
    openai_chat.script(Reply(tokens=["One ", "two ", "three ", "four "], cut_after=2))
    comm, _ = await connect("shop")

    events = await ask(comm, "Count")

    assert streamed_text(events) == "One two "
    assert events[-1]["code"] == "provider_stream_interrupted"
    answer = await sync_to_async(Message.objects.get)(id=events[-1]["message_id"])
    assert answer.status == "failed"
    assert answer.text == "One two "
    await comm.disconnect()


async def test_a_provider_timeout_has_its_own_code(openai_chat, chatbot, settings):
    settings.OPENAI_TIMEOUT_SECONDS = 0.5
    from chatplatform.ai import reset_providers

    reset_providers()
    openai_chat.script(Reply(text="late", hang=3), times=3)
    comm, _ = await connect("shop")

    events = await ask(comm, "Anyone there?")

    assert events[-1]["code"] == "provider_timeout"
    await comm.disconnect()


async def test_exclamation_marks_are_replaced_across_token_boundaries(openai_chat, chatbot):
    chatbot.replace_exclamation_marks = True
    await sync_to_async(chatbot.save)()
    openai_chat.script(Reply(tokens=["Hej", "!", "!", " Velkommen", "!"]))
    comm, _ = await connect("shop")

    events = await ask(comm, "Hi")

    assert events[-1]["text"] == "Hej. Velkommen."
    assert streamed_text(events) == "Hej. Velkommen."
    await comm.disconnect()


async def test_a_second_message_during_an_answer_is_refused(openai_chat, chatbot):
    openai_chat.script(Reply(tokens=["a ", "b ", "c "], interval=0.2))
    comm, _ = await connect("shop")
    await comm.send_to(text_data=json.dumps({"type": "message", "text": "First"}))
    assert (await comm.receive_json_from())["type"] == "start"

    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Second"}))
    events = await events_until_final(comm)

    assert {"type": "error", "code": "answer_in_progress"}.items() <= next(
        e for e in events if e["type"] == "error"
    ).items()
    assert events[-1]["type"] == "end"
    await comm.disconnect()


async def test_too_many_messages_close_the_socket(chatbot, settings):
    settings.CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION = 1
    comm, _ = await connect("shop")
    await ask(comm, "How much is shipping?")

    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Again"}))

    assert (await comm.receive_json_from())["code"] == "rate_limited"
    assert (await comm.receive_output())["type"] == "websocket.close"


async def test_one_clients_errors_never_touch_another_clients_stream(openai_chat, chatbot):
    openai_chat.script(Reply(tokens=[f"x{n} " for n in range(10)], interval=0.02))
    good, _ = await connect("shop")
    bad, _ = await connect("shop")
    await good.send_to(text_data=json.dumps({"type": "message", "text": "Go"}))

    for frame in ["{oops", '{"type": "stop"}', '{"type": "dance"}']:
        await bad.send_to(text_data=frame)
    events = await events_until_final(good)

    assert events[-1]["type"] == "end"
    assert events[-1]["status"] == "completed"
    assert len(seqs(events)) == 10
    await good.disconnect()
    await bad.disconnect()


async def test_a_nul_character_is_refused_before_anything_is_written(chatbot):
    comm, _ = await connect("shop")

    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Fragt\x00?", "client_id": "c-1"}))
    error = await comm.receive_json_from()
    await comm.disconnect()

    assert error["code"] == "invalid_characters"
    assert not await sync_to_async(Message.objects.exists)()
    assert not await sync_to_async(Conversation.objects.exists)()


async def test_connecting_without_a_message_stores_no_conversation(chatbot):
    comm, hello = await connect("shop")
    await comm.disconnect()
    again, resumed = await connect("shop", token=hello["token"])
    await again.disconnect()

    assert resumed["id"] == hello["id"]
    assert not await sync_to_async(Conversation.objects.exists)()


async def test_connections_over_the_per_address_cap_are_refused(chatbot, settings):
    settings.CHAT_MAX_CONNECTIONS_PER_IP = 2
    first, _ = await connect("shop")
    second, _ = await connect("shop")

    third = communicator("shop")
    await third.connect()
    refused = await third.receive_json_from()
    closed = await third.receive_output()
    await first.disconnect()
    fourth, hello = await connect("shop")

    assert refused["code"] == "rate_limited"
    assert closed == {"type": "websocket.close", "code": 4429}
    assert hello["type"] == "conversation"
    await second.disconnect()
    await fourth.disconnect()


async def test_the_conversation_is_stored_for_its_chatbot_at_the_first_message(chatbot):
    comm, hello = await connect("shop")
    await ask(comm, "How much is shipping?")
    await comm.disconnect()

    conversation = await sync_to_async(Conversation.objects.select_related("chatbot").get)(id=hello["id"])
    assert conversation.chatbot.chatbot_id == "shop"
    assert hello["token"] not in conversation.token_hash
