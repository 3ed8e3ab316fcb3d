"""Order tracking in a conversation and over REST, against the distributor's contract server."""

import json

import pytest
from asgiref.sync import sync_to_async

from conversations.flows import chatbot_flows_ensure
from conversations.services import chatbot_api_key_create
from tests.conversations.chat_helpers import ask, connect
from tests.conversations.factories import ChatbotFactory
from tests.fakes.commerce.distributor_server import distributor_order
from tracking.models import CommerceIntegration, OrderLookup

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "anna.hansen@example.dk"
TRACKING_URL = "https://gls-group.com/DK/da/find-pakke?match=12345678901"


@pytest.fixture
def shop(distributor_server, settings):
    settings.TRACKING_HTTP_BUDGET_SECONDS = 3
    settings.TRACKING_HTTP_BACKOFF_SECONDS = 0.01
    distributor_server.add_order(
        distributor_order(
            "NV-100234",
            status="Afsendt",
            email=EMAIL,
            zip_code="2100",
            consignments=[{"carrierName": "GLS", "trackingNo": "12345678901"}],
        )
    )
    chatbot = ChatbotFactory(chatbot_id="nordvin", language="da")
    chatbot_flows_ensure(chatbot=chatbot)
    CommerceIntegration.objects.create(
        chatbot=chatbot,
        kind="distributor",
        base_url=distributor_server.base_url,
        credentials=json.dumps({"api_key": distributor_server.api_key}),
        options={"auth_mode": "api_key"},
    )
    return chatbot


def answer_text(events: list[dict]) -> str:
    assert events[-1]["type"] == "end", events[-1]
    return events[-1]["text"]


async def test_a_shopper_is_asked_for_the_email_refused_with_a_wrong_one_and_helped_with_the_right_one(shop):
    comm, _ = await connect("nordvin")

    asked = await ask(comm, "Hvor er min ordre NV-100234?")
    wrong = await ask(comm, "forkert@example.dk")
    right = await ask(comm, EMAIL)
    await comm.disconnect()

    assert asked[0]["flow"] == "apiflow"
    assert "e-mail" in answer_text(asked)
    assert "kan ikke finde en ordre" in answer_text(wrong)
    helped = answer_text(right)
    assert "NV-100234" in helped
    assert "afsendt" in helped
    assert TRACKING_URL in helped
    assert "Barolo" in helped
    assert EMAIL not in helped
    outcomes = await sync_to_async(list)(
        OrderLookup.objects.order_by("created_at").values_list("outcome", flat=True)
    )
    assert outcomes == ["not_verified", "verified"]


async def test_no_such_order_and_wrong_details_get_the_same_answer(shop):
    comm, _ = await connect("nordvin")

    missing = await ask(comm, f"Ordre NV-999999, e-mail {EMAIL}")
    mismatch = await ask(comm, "Ordre NV-100234, e-mail someone@example.dk")
    await comm.disconnect()

    assert answer_text(missing) == answer_text(mismatch)


async def test_five_failures_in_an_hour_lock_the_conversation(shop, settings):
    settings.ORDER_LOOKUP_MAX_FAILURES = 2
    comm, _ = await connect("nordvin")
    for n in range(2):
        await ask(comm, f"NV-100234 wrong{n}@example.dk")

    locked = await ask(comm, f"NV-100234 {EMAIL}")
    await comm.disconnect()

    assert "for mange forsøg" in answer_text(locked)
    lookups = await sync_to_async(list)(OrderLookup.objects.values_list("outcome", flat=True))
    assert "too_many_attempts" in lookups


async def test_the_lookup_log_holds_no_personal_data(shop):
    comm, _ = await connect("nordvin")
    await ask(comm, f"NV-100234 {EMAIL}")
    await comm.disconnect()

    row = await sync_to_async(OrderLookup.objects.values().get)()
    text = json.dumps(row, default=str)
    assert EMAIL not in text
    assert "NV-100234" not in text
    assert row["order_hint"] == "•••34"
    assert row["verified_by"] == "email"


async def test_the_system_failing_gets_an_apology_not_a_traceback(shop, distributor_server):
    distributor_server.script_next(503, times=5)
    comm, _ = await connect("nordvin")

    events = await ask(comm, f"NV-100234 {EMAIL}")
    await comm.disconnect()

    assert "kan ikke slå ordrer op lige nu" in answer_text(events)


def order_api(client, chatbot_id: str, key: str, **payload):
    return client.post(
        f"/api/v1/chatbots/{chatbot_id}/orders/lookup/",
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )


def test_the_rest_lookup_returns_the_normalised_order_without_personal_data(client, shop):
    _, key = chatbot_api_key_create(chatbot_id="nordvin", name="shop")

    response = order_api(client, "nordvin", key, order_number="nv-100234", postcode="2100")

    assert response.status_code == 200, response.json()
    order = response.json()
    assert order["number"] == "NV-100234"
    assert order["status"] == "shipped"
    assert order["shipments"][0]["tracking_url"] == TRACKING_URL
    assert EMAIL not in response.content.decode()
    assert "2100" not in json.dumps(order)


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"order_number": "NV-100234", "email": "x@example.dk"}, 404, "order_not_found"),
        ({"order_number": "NV-555555", "email": EMAIL}, 404, "order_not_found"),
        ({"order_number": "NV-100234"}, 400, "invalid"),
        ({"order_number": "NV-100234", "email": "not-an-email"}, 400, "invalid"),
        ({}, 400, "invalid"),
    ],
)
def test_the_rest_lookup_refuses_clearly(client, shop, payload, status, code):
    _, key = chatbot_api_key_create(chatbot_id="nordvin", name="shop")

    response = order_api(client, "nordvin", key, **payload)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_another_chatbots_key_cannot_look_orders_up(client, shop):
    ChatbotFactory(chatbot_id="rival")
    _, key = chatbot_api_key_create(chatbot_id="rival", name="rival")

    assert order_api(client, "nordvin", key, order_number="NV-100234", email=EMAIL).status_code == 403


async def test_with_the_openai_provider_no_email_or_postcode_reaches_any_prompt(shop, openai_chat):
    openai_server = openai_chat
    openai_server.script(
        '{"order_number": "NV-100234"}', "Din ordre er afsendt.", '{"order_number": null}', "Ja."
    )
    comm, _ = await connect("nordvin")

    await ask(comm, f"Hvor er min ordre NV-100234? Min e-mail er {EMAIL}, postnummer 2100")
    await ask(comm, "Kan jeg også returnere den?")
    await comm.disconnect()

    sent = json.dumps([request.body for request in openai_server.requests])
    assert len(openai_server.requests) >= 3
    assert EMAIL not in sent
    assert "2100" not in sent
    assert "NV-100234" in sent


async def test_the_order_extraction_finds_the_email_but_the_llm_never_sees_a_phone_number(shop, openai_chat):
    openai_server = openai_chat
    openai_server.script('{"order_number": "NV-100234"}', "Din ordre er afsendt.")
    comm, _ = await connect("nordvin")

    events = await ask(comm, f"Ordre NV-100234, mail {EMAIL}, ring på +45 21 43 65 87 eller 21436587")
    await comm.disconnect()

    assert answer_text(events) == "Din ordre er afsendt."
    lookup = await sync_to_async(OrderLookup.objects.get)()
    assert (lookup.outcome, lookup.verified_by) == ("verified", "email")
    sent = json.dumps([request.body for request in openai_server.requests])
    assert "NV-100234" in sent
    for detail in [EMAIL, "21 43 65 87", "21436587"]:
        assert detail not in sent
