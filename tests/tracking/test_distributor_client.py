import time
from datetime import UTC, datetime

import pytest

from tests.fakes.commerce.distributor_server import (
    FakeDistributor,
    distributor_order,
)
from tests.fakes.commerce.distributor_server import distributor_server as _distributor_server  # noqa: F401  (fixture)
from tests.tracking.integration_helpers import FAST, assert_no_secret, integration
from tracking.clients.base import OrderClientError
from tracking.clients.distributor import DistributorClient
from tracking.orders import LineItem, OrderStatus, Shipment

pytestmark = pytest.mark.django_db

GLS_WITH_LINK = {
    "carrierName": "GLS",
    "trackingNo": "GLS-555",
    "trackingLink": "https://gls.example/t/GLS-555",
}
POSTNORD_WITHOUT_LINK = {"carrierName": "PostNord", "trackingNo": "00370712345678", "trackingLink": None}


def api_key_integration(server: FakeDistributor, *, api_key: str | None = None, **options):
    return integration(
        "distributor",
        base_url=server.base_url,
        credentials={"api_key": api_key or server.api_key},
        options={"auth_mode": "api_key", **options},
    )


def login_integration(server: FakeDistributor, *, password: str | None = None):
    return integration(
        "distributor",
        base_url=server.base_url,
        credentials={"username": server.username, "password": password or server.password},
        options={"auth_mode": "login"},
    )


def test_it_fetches_and_normalises_an_order(distributor_server):
    distributor_server.add_order(
        distributor_order("100234", status="Afsendt", consignments=[GLS_WITH_LINK, POSTNORD_WITHOUT_LINK])
    )
    client = DistributorClient.from_integration(api_key_integration(distributor_server), **FAST)

    order = client.fetch_order("100234")

    assert order.number == "100234"
    assert (order.status, order.raw_status) == (OrderStatus.SHIPPED, "Afsendt")
    assert order.placed_at == datetime(2025, 3, 14, 8, 30, tzinfo=UTC)
    assert order.items == (
        LineItem(name="Barolo DOCG 2019", quantity=6, sku="BAR-19"),
        LineItem(name="Champagne Brut", quantity=2, sku="CH-BRUT"),
    )
    assert order.shipments == (
        Shipment("GLS", "GLS-555", "https://gls.example/t/GLS-555"),
        Shipment("PostNord", "00370712345678", "https://tracking.postnord.com/dk/?id=00370712345678"),
    )
    assert (order.customer_email, order.postcode) == ("kunde@example.com", "8000")
    assert distributor_server.order_requests()[0].headers["x-api-key"] == distributor_server.api_key


def test_it_returns_none_for_an_unknown_order(distributor_server):
    client = DistributorClient.from_integration(api_key_integration(distributor_server), **FAST)

    assert client.fetch_order("nope/1") is None
    assert distributor_server.order_requests()[0].path == "/api/v1/orders/nope%2F1"


def test_it_treats_a_different_order_in_the_answer_as_not_found(distributor_server):
    distributor_server.script_next(200, path="/api/v1/orders/", body=distributor_order("100235"))
    client = DistributorClient.from_integration(api_key_integration(distributor_server), **FAST)

    assert client.fetch_order("100234") is None


def test_it_reports_an_answer_without_order_number_as_a_bad_response(distributor_server):
    distributor_server.script_next(200, path="/api/v1/orders/", body={"orderStatus": "Afsendt"})
    client = DistributorClient.from_integration(api_key_integration(distributor_server), **FAST)

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("100234")

    assert caught.value.code == "order_bad_response"


def test_it_reports_an_answer_that_is_not_json_as_a_bad_response(distributor_server):
    distributor_server.script_next(200, path="/api/v1/orders/", body=b"<html>maintenance</html>")
    client = DistributorClient.from_integration(api_key_integration(distributor_server), **FAST)

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("100234")

    assert caught.value.code == "order_bad_response"


def test_it_refuses_a_wrong_api_key_permanently_without_retrying(distributor_server):
    client = DistributorClient.from_integration(
        api_key_integration(distributor_server, api_key="wrong-key-123"), **FAST
    )

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("100234")

    assert (caught.value.code, caught.value.permanent) == ("order_auth_failed", True)
    assert len(distributor_server.order_requests()) == 1
    assert_no_secret(caught.value, "wrong-key-123")


def test_it_logs_in_once_and_reuses_the_token(distributor_server):
    distributor_server.add_order(distributor_order("1"))

    for _ in range(2):
        assert DistributorClient.from_integration(login_integration(distributor_server), **FAST).fetch_order(
            "1"
        )

    (login,) = distributor_server.login_requests()
    assert login.json() == {"username": distributor_server.username, "password": distributor_server.password}
    assert all(r.bearer() for r in distributor_server.order_requests())


def test_it_logs_in_again_once_when_the_token_expired(distributor_server):
    distributor_server.add_order(distributor_order("1"))
    client = DistributorClient.from_integration(login_integration(distributor_server), **FAST)
    client.fetch_order("1")
    distributor_server.expire_tokens()

    assert client.fetch_order("1").number == "1"
    assert len(distributor_server.login_requests()) == 2
    assert len(distributor_server.order_requests()) == 3


def test_it_refuses_a_wrong_password_permanently_without_retrying(distributor_server):
    client = DistributorClient.from_integration(
        login_integration(distributor_server, password="wrong-pass-99"), **FAST
    )

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("1")

    assert (caught.value.code, caught.value.permanent) == ("order_auth_failed", True)
    assert len(distributor_server.login_requests()) == 1
    assert distributor_server.order_requests() == []
    assert_no_secret(caught.value, "wrong-pass-99", distributor_server.username)


def test_it_retries_503_at_most_three_times(distributor_server):
    distributor_server.script_next(503, path="/api/v1/orders/", times=5)
    client = DistributorClient.from_integration(api_key_integration(distributor_server), **FAST)

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("1")

    assert (caught.value.code, caught.value.permanent) == ("order_unavailable", False)
    assert len(distributor_server.order_requests()) == 3


def test_it_honours_retry_after_on_429(distributor_server):
    distributor_server.add_order(distributor_order("1"))
    distributor_server.script_next(429, path="/api/v1/orders/", headers={"Retry-After": "1"})
    client = DistributorClient.from_integration(api_key_integration(distributor_server), **FAST)

    started = time.monotonic()
    assert client.fetch_order("1").number == "1"
    assert time.monotonic() - started >= 0.95


def test_it_times_out_within_the_budget(distributor_server):
    distributor_server.script_next(path="/api/v1/orders/", delay=3, times=3)
    client = DistributorClient.from_integration(
        api_key_integration(distributor_server), timeout=0.2, budget=0.6, backoff=0.01
    )

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("1")

    assert caught.value.code == "order_timeout"
    # Attempts of 0.2 s within a 0.6 s budget: never more than three, however slow the machine.
    assert 1 <= len(distributor_server.order_requests()) <= 3


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Modtaget", OrderStatus.RECEIVED),
        ("Received", OrderStatus.RECEIVED),
        ("PAKKET", OrderStatus.PACKED),
        ("Ready to ship", OrderStatus.PACKED),
        ("afsendt", OrderStatus.SHIPPED),
        ("Leveret", OrderStatus.DELIVERED),
        ("Delivered", OrderStatus.DELIVERED),
        ("Annulleret", OrderStatus.CANCELLED),
        ("Canceled", OrderStatus.CANCELLED),
        ("Hos vinbonden", OrderStatus.UNKNOWN),
    ],
)
def test_it_maps_status_words(distributor_server, word, expected):
    distributor_server.add_order(distributor_order("1", status=word))
    client = DistributorClient.from_integration(api_key_integration(distributor_server), **FAST)

    assert client.fetch_order("1").status is expected


def test_it_lets_options_add_status_words(distributor_server):
    distributor_server.add_order(distributor_order("1", status="Hos vinbonden"))
    configured = api_key_integration(distributor_server, status_map={"Hos vinbonden": "packed"})

    assert (
        DistributorClient.from_integration(configured, **FAST).fetch_order("1").status is OrderStatus.PACKED
    )


def test_it_checks_the_connection(distributor_server):
    client = DistributorClient.from_integration(login_integration(distributor_server), **FAST)

    assert "credentials were accepted" in client.check_connection()


@pytest.mark.parametrize(
    ("options", "credentials", "field", "message"),
    [
        ({}, {}, "credentials", "api_key is required."),
        ({"auth_mode": "login"}, {"username": "bot"}, "credentials", "password is required."),
        ({"auth_mode": "oauth"}, {}, "options", "auth_mode: use one of api_key, login."),
        ({"status_map": {"Afsendt": "gone"}}, {"api_key": "k"}, "options", "status_map.Afsendt:"),
    ],
)
def test_it_validates_auth_and_status_settings(options, credentials, field, message):
    instance = integration(
        "distributor", base_url="https://bevco.example", credentials=credentials, options=options, save=False
    )

    errors = DistributorClient.validate(instance)

    assert any(problem.startswith(message) for problem in errors[field])
