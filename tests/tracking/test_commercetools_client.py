import time
from datetime import UTC, datetime

import pytest

from tests.fakes.commerce.commercetools_server import (
    FakeCommercetools,
    commercetools_order,
)
from tests.fakes.commerce.commercetools_server import commercetools_server as _commercetools_server  # noqa: F401  (fixture)
from tests.tracking.integration_helpers import FAST, assert_no_secret, integration
from tracking.clients.base import OrderClientError
from tracking.clients.commercetools import CommercetoolsClient, commercetools_status, localized
from tracking.orders import LineItem, OrderStatus, Shipment

pytestmark = pytest.mark.django_db

GLS = {"trackingId": "GLS123", "carrier": "GLS", "provider": "GLS Denmark", "isReturn": False}
BRING_RETURN = {"trackingId": "RET-1", "carrier": "Bring", "isReturn": True}
LOCAL_POST = {"trackingId": "LP-77", "carrier": "Byens Bud"}


def ct_integration(server: FakeCommercetools, *, secret: str | None = None, **options):
    return integration(
        "commercetools",
        base_url=server.base_url,
        project_key=server.project_key,
        region="europe-west1.gcp",
        credentials={"client_id": server.client_id, "client_secret": secret or server.client_secret},
        options={"auth_url": server.base_url, **options},
        carrier_tracking_urls={"Byens Bud": "https://byensbud.example/spor/{tracking_number}"},
    )


def client_for(server: FakeCommercetools, **overrides) -> CommercetoolsClient:
    return CommercetoolsClient.from_integration(ct_integration(server), **{**FAST, **overrides})


def test_it_fetches_and_normalises_an_order(commercetools_server):
    commercetools_server.add_order(commercetools_order("100234", parcels=[GLS, BRING_RETURN, LOCAL_POST]))

    order = client_for(commercetools_server).fetch_order(" 100234 ")

    assert order.number == "100234"
    assert order.status is OrderStatus.SHIPPED
    assert order.raw_status == "Confirmed / Shipped"
    assert order.placed_at == datetime(2025, 3, 14, 8, 30, tzinfo=UTC)
    assert order.items == (
        LineItem(name="Barolo DOCG 2019", quantity=6, sku="BAR-19"),
        LineItem(name="Gift box", quantity=1, sku="GIFT-1"),
    )
    assert order.shipments == (
        Shipment("GLS", "GLS123", "https://gls-group.com/DK/da/find-pakke?match=GLS123"),
        Shipment("Byens Bud", "LP-77", "https://byensbud.example/spor/LP-77"),
    )
    assert (order.customer_email, order.postcode) == ("kunde@example.com", "8000")


def test_it_asks_for_a_view_orders_token_with_basic_auth(commercetools_server):
    commercetools_server.add_order(commercetools_order("1"))

    client_for(commercetools_server).fetch_order("1")

    (token_request,) = commercetools_server.token_requests()
    assert token_request.basic_auth() == (commercetools_server.client_id, commercetools_server.client_secret)
    assert token_request.form() == {"grant_type": ["client_credentials"], "scope": ["view_orders:wine-shop"]}


def test_it_returns_none_for_an_unknown_order(commercetools_server):
    assert client_for(commercetools_server).fetch_order("999") is None


def test_it_url_encodes_the_order_number(commercetools_server):
    commercetools_server.add_order(commercetools_order("dk/2025.7"))

    order = client_for(commercetools_server).fetch_order("#dk/2025.7")

    assert order.number == "dk/2025.7"
    assert commercetools_server.order_requests()[-1].path == "/wine-shop/orders/order-number=dk%2F2025.7"


def test_it_sends_nothing_for_text_that_cannot_be_an_order_number(commercetools_server):
    assert client_for(commercetools_server).fetch_order('1\' OR "1"="1') is None
    assert commercetools_server.requests == []


def test_it_reuses_the_cached_token(commercetools_server):
    commercetools_server.add_order(commercetools_order("1"))

    client_for(commercetools_server).fetch_order("1")
    client_for(commercetools_server).fetch_order("1")  # a new client, as each lookup builds one

    assert len(commercetools_server.token_requests()) == 1
    assert len(commercetools_server.order_requests()) == 2


def test_it_refreshes_an_expired_token_once(commercetools_server):
    commercetools_server.add_order(commercetools_order("1"))
    client = client_for(commercetools_server)
    client.fetch_order("1")
    commercetools_server.expire_tokens()

    assert client.fetch_order("1").number == "1"
    assert len(commercetools_server.token_requests()) == 2
    first, refused, retried = (r.headers["authorization"] for r in commercetools_server.order_requests())
    assert first == refused != retried


def test_it_gives_up_when_a_new_token_is_refused_too(commercetools_server):
    commercetools_server.add_order(commercetools_order("1"))
    client = client_for(commercetools_server)
    client.fetch_order("1")
    commercetools_server.expire_tokens()
    commercetools_server.script_next(401, path="/wine-shop/orders", times=2, body={"statusCode": 401})

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("1")

    assert caught.value.code == "order_auth_failed"
    assert len(commercetools_server.token_requests()) == 2


def test_it_reports_refused_credentials_as_permanent_without_retrying(commercetools_server):
    client = CommercetoolsClient.from_integration(
        ct_integration(commercetools_server, secret="wrong-secret-42"), **FAST
    )

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("1")

    assert caught.value.code == "order_auth_failed"
    assert caught.value.permanent is True
    assert len(commercetools_server.token_requests()) == 1
    assert commercetools_server.order_requests() == []
    assert_no_secret(caught.value, "wrong-secret-42", commercetools_server.client_id)


def test_it_retries_503_at_most_three_times(commercetools_server):
    commercetools_server.script_next(503, path="/wine-shop/orders", times=5)

    with pytest.raises(OrderClientError) as caught:
        client_for(commercetools_server).fetch_order("1")

    assert (caught.value.code, caught.value.permanent) == ("order_unavailable", False)
    assert len(commercetools_server.order_requests()) == 3


def test_it_honours_retry_after_on_429(commercetools_server):
    commercetools_server.add_order(commercetools_order("1"))
    client = client_for(commercetools_server)
    client.token.get()  # only the order request is timed
    commercetools_server.script_next(429, path="/wine-shop/orders", headers={"Retry-After": "1"})

    started = time.monotonic()
    order = client.fetch_order("1")

    assert order.number == "1"
    assert time.monotonic() - started >= 0.95
    assert len(commercetools_server.order_requests()) == 2


def test_it_reports_rate_limiting_when_retry_after_exceeds_the_budget(commercetools_server):
    commercetools_server.script_next(429, path="/wine-shop/orders", headers={"Retry-After": "30"})

    with pytest.raises(OrderClientError) as caught:
        client_for(commercetools_server).fetch_order("1")

    assert caught.value.code == "order_rate_limited"
    assert len(commercetools_server.order_requests()) == 1


def test_it_times_out_within_the_budget(commercetools_server):
    client = client_for(commercetools_server, timeout=0.2, budget=0.6)
    client.token.get()
    commercetools_server.script_next(path="/wine-shop/orders", delay=3, times=3)

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("1")

    assert caught.value.code == "order_timeout"
    # Attempts of 0.2 s within a 0.6 s budget: never more than three, however slow the machine.
    assert 1 <= len(commercetools_server.order_requests()) <= 3


def test_it_takes_the_api_host_and_region_from_an_api_base_url():
    instance = integration(
        "commercetools",
        base_url="https://api.us-central1.gcp.commercetools.com",
        project_key="shop",
        credentials={"client_id": "abc", "client_secret": "s3cret"},
        save=False,
    )

    assert CommercetoolsClient.validate(instance) == {}
    client = CommercetoolsClient.from_integration(instance)
    assert client.auth.client.base_url.host == "auth.us-central1.gcp.commercetools.com"


def test_a_lookup_that_needs_a_token_stays_within_one_budget(commercetools_server):
    client = client_for(commercetools_server, timeout=0.5, budget=0.6)
    commercetools_server.script_next(path="/oauth/token", delay=0.45)  # a slow but good answer
    commercetools_server.script_next(path="/wine-shop/orders", delay=3, times=3)

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("1")

    assert caught.value.code == "order_timeout"
    # The token took most of the budget: at most one order attempt, not a fresh budget's two or
    # three (none when a busy machine slowed the token past the budget).
    assert len(commercetools_server.order_requests()) <= 1


def test_it_checks_the_connection(commercetools_server):
    assert "wine-shop" in client_for(commercetools_server).check_connection()


@pytest.mark.parametrize(
    ("order_state", "shipment_state", "expected"),
    [
        ("Open", "", OrderStatus.RECEIVED),
        ("Confirmed", "Pending", OrderStatus.RECEIVED),
        ("Confirmed", "Backorder", OrderStatus.RECEIVED),
        ("Confirmed", "Ready", OrderStatus.PACKED),
        ("Confirmed", "Partial", OrderStatus.SHIPPED),
        ("Confirmed", "Shipped", OrderStatus.SHIPPED),
        ("Complete", "Delivered", OrderStatus.DELIVERED),
        ("Complete", "", OrderStatus.SHIPPED),
        ("Cancelled", "Ready", OrderStatus.CANCELLED),
        ("Confirmed", "Canceled", OrderStatus.CANCELLED),
        ("Confirmed", "Teleported", OrderStatus.UNKNOWN),
    ],
)
def test_it_maps_order_and_shipment_states(order_state, shipment_state, expected):
    assert commercetools_status(order_state, shipment_state) is expected


def test_it_picks_the_product_name_in_the_chatbots_language():
    name = {"de-DE": "Geschenkbox", "da-DK": "Gaveæske", "en": "Gift box"}
    assert localized(name, "da") == "Gaveæske"
    assert localized(name, "fr") == "Gift box"
    assert localized({"de": "Geschenkbox"}, "da") == "Geschenkbox"


def test_it_validates_missing_settings():
    instance = integration("commercetools", base_url="", credentials={"client_id": "abc"}, save=False)

    errors = CommercetoolsClient.validate(instance)

    assert errors["credentials"] == ["client_secret is required."]
    assert "project_key" in errors
    assert "region" in errors


def test_it_derives_both_hosts_from_the_region():
    instance = integration(
        "commercetools",
        base_url="",
        project_key="shop",
        region="europe-west1.gcp",
        credentials={"client_id": "abc", "client_secret": "s3cret"},
        save=False,
    )

    client = CommercetoolsClient.from_integration(instance)

    assert client.api.client.base_url.host == "api.europe-west1.gcp.commercetools.com"
    assert client.auth.client.base_url.host == "auth.europe-west1.gcp.commercetools.com"


def test_it_refuses_to_build_a_misconfigured_client_without_echoing_secrets():
    instance = integration(
        "commercetools", base_url="", credentials={"client_secret": "s3cret-value"}, save=False
    )

    with pytest.raises(OrderClientError) as caught:
        CommercetoolsClient.from_integration(instance)

    assert (caught.value.code, caught.value.permanent) == ("order_misconfigured", True)
    assert_no_secret(caught.value, "s3cret-value")
