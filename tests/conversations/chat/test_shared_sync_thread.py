"""Network calls never hold Django's shared sync thread, which every websocket connect needs.

Each test holds one outside call at its fake server (an order lookup at the shop's system, a
vision or chat request at the OpenAI-compatible server) and opens a websocket meanwhile: the
connect must complete before the test releases the held call.

The chat's order lookup ran on that thread. The REST endpoints do not: Django's ASGI handler
runs each HTTP request's sync code on a thread of its own (asgiref's `ThreadSensitiveContext`);
their tests guard that this stays so.
"""

import json
import threading

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from chatplatform.asgi import application
from conversations.chat.services import conversation_create
from conversations.flows import chatbot_flows_ensure
from conversations.services import chatbot_api_key_create
from tests.conversations.chat_helpers import communicator, connect, events_until_final
from tests.conversations.factories import ChatbotFactory
from tests.conversations.images.conftest import sample, upload
from tests.fakes.commerce.distributor_server import (
    ORDERS_PATH,
    distributor_order,
    distributor_server,  # noqa: F401  (fixture)
)
from tests.fakes.openai_server import Reply
from tests.waiting import until
from tracking.models import CommerceIntegration

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "anna.hansen@example.dk"
# Generous: a connect that waits for the held call never completes, however long this is.
CONNECT_TIMEOUT = 10


@pytest.fixture
def release():
    event = threading.Event()
    yield event
    event.set()  # never leave a fake server's thread waiting


def _api_key(chatbot_id: str) -> str:
    return chatbot_api_key_create(chatbot_id=chatbot_id, name="tests")[1]


async def _http_post(path: str, body: bytes, headers: dict[str, str]) -> ApplicationCommunicator:
    """A POST to the real ASGI application, as daphne hands it over."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        + [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    request = ApplicationCommunicator(application, scope)
    await request.send_input({"type": "http.request", "body": body, "more_body": False})
    return request


async def _http_response(request: ApplicationCommunicator) -> tuple[int, dict]:
    start = await request.receive_output(timeout=CONNECT_TIMEOUT)
    body = b""
    while True:
        message = await request.receive_output(timeout=CONNECT_TIMEOUT)
        body += message.get("body", b"")
        if not message.get("more_body"):
            return start["status"], json.loads(body)


async def _a_websocket_connects(chatbot_id: str) -> None:
    visitor = communicator(chatbot_id)
    connected, _ = await visitor.connect(timeout=CONNECT_TIMEOUT)
    assert connected
    assert (await visitor.receive_json_from(timeout=CONNECT_TIMEOUT))["type"] == "conversation"
    await visitor.disconnect()


@pytest.fixture
def order_shop(distributor_server, settings):  # noqa: F811
    settings.TRACKING_HTTP_BUDGET_SECONDS = 30
    settings.TRACKING_HTTP_TIMEOUT_SECONDS = 30
    distributor_server.add_order(distributor_order("NV-100234", status="Afsendt", email=EMAIL))
    chatbot = ChatbotFactory(chatbot_id="nordvin", language="da")
    chatbot_flows_ensure(chatbot=chatbot)
    CommerceIntegration.objects.create(
        chatbot=chatbot,
        kind="distributor",
        base_url=distributor_server.base_url,
        credentials=json.dumps({"api_key": distributor_server.api_key}),
        options={"auth_mode": "api_key"},
    )
    return distributor_server


async def test_a_websocket_connects_while_a_chat_order_lookup_waits_for_the_shop(order_shop, release):
    order_shop.hold_next(release, path=ORDERS_PATH)
    shopper, _ = await connect("nordvin")
    await shopper.send_json_to({"type": "message", "text": f"Hvor er ordre NV-100234? {EMAIL}"})
    await until(lambda: bool(order_shop.requests_to(ORDERS_PATH)), timeout=CONNECT_TIMEOUT)

    await _a_websocket_connects("nordvin")

    release.set()
    events = await events_until_final(shopper)
    await shopper.disconnect()
    assert events[-1]["type"] == "end"
    assert "NV-100234" in events[-1]["text"]


async def test_a_websocket_connects_while_a_rest_order_lookup_waits_for_the_shop(order_shop, release):
    key = await sync_to_async(_api_key)("nordvin")
    order_shop.hold_next(release, path=ORDERS_PATH)
    request = await _http_post(
        "/api/v1/chatbots/nordvin/orders/lookup/",
        json.dumps({"order_number": "NV-100234", "email": EMAIL}).encode(),
        {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
    )
    await until(lambda: bool(order_shop.requests_to(ORDERS_PATH)), timeout=CONNECT_TIMEOUT)

    await _a_websocket_connects("nordvin")

    release.set()
    status, body = await _http_response(request)
    assert status == 200, body
    assert body["number"] == "NV-100234"


@pytest.fixture
def vision_shop(openai_settings, openai_server):
    openai_settings.OPENAI_TIMEOUT_SECONDS = 30
    ChatbotFactory(chatbot_id="vinbar", language="da")
    return openai_server


async def test_a_websocket_connects_while_an_uploaded_image_is_described(
    vision_shop, release, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    key = await sync_to_async(_api_key)("vinbar")
    vision_shop.script(Reply(text="A broken bottle of red wine.", hold=release))
    body = encode_multipart(BOUNDARY, {"file": upload("bottle.png", sample("broken-bottle.png"))})
    request = await _http_post(
        "/api/v1/chatbots/vinbar/images/",
        body,
        {"Authorization": f"Api-Key {key}", "Content-Type": MULTIPART_CONTENT},
    )
    await until(lambda: bool(vision_shop.requests), timeout=CONNECT_TIMEOUT)

    await _a_websocket_connects("vinbar")

    release.set()
    status, answer = await _http_response(request)
    assert status == 201, answer
    assert answer["description"] == "A broken bottle of red wine."


@pytest.fixture
def answering_shop(openai_chat, settings):
    settings.OPENAI_TIMEOUT_SECONDS = 30
    chatbot = ChatbotFactory(chatbot_id="shop", language="en", knowledgebase_index_endpoint="")
    chatbot.flow2_knowledgebase_index = ""
    chatbot.save()
    chatbot_flows_ensure(chatbot=chatbot)
    return openai_chat


async def test_a_websocket_connects_while_a_rest_question_is_answered_as_json(answering_shop, release):
    key = await sync_to_async(_api_key)("shop")
    chatbot = await sync_to_async(ChatbotFactory._meta.model.objects.get)(chatbot_id="shop")
    conversation, _ = await sync_to_async(conversation_create)(chatbot=chatbot)
    answering_shop.script(Reply(text="Shipping is free.", hold=release))
    request = await _http_post(
        f"/api/v1/chatbots/shop/conversations/{conversation.id}/messages/",
        json.dumps({"text": "Is shipping free?"}).encode(),
        {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
    )
    await until(
        lambda: any(r.path.startswith("/v1/chat/completions") for r in answering_shop.requests),
        timeout=CONNECT_TIMEOUT,
    )

    await _a_websocket_connects("shop")

    release.set()
    status, answer = await _http_response(request)
    assert status == 200, answer
    assert answer["text"] == "Shipping is free."
