import logging
from datetime import UTC, datetime

import pytest

from tests.fakes.commerce.magento_server import FakeMagentoServer
from tests.tracking.factories import magento_integration
from tracking.clients.base import OrderClientError
from tracking.clients.magento2 import Magento2Client, magento_status
from tracking.orders import LineItem, OrderStatus, Shipment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_http")]

ORDER_FILTER = "searchCriteria[filterGroups][0][filters][0]"
CONFIGURABLE_ITEMS = [
    {"item_id": 1, "name": "Vinkøler", "sku": "COOL-RED", "qty_ordered": 1.0, "product_type": "configurable"},
    {"item_id": 2, "parent_item_id": 1, "name": "Vinkøler Rød", "sku": "COOL-RED", "qty_ordered": 1.0},
    {
        "item_id": 3,
        "name": "Barolo DOCG 2019",
        "sku": "BAR-2019",
        "qty_ordered": 6.0,
        "product_type": "simple",
    },
]


@pytest.fixture
def make_client():
    clients: list[Magento2Client] = []

    def make(server: FakeMagentoServer, **fields) -> Magento2Client:
        client = Magento2Client.from_integration(magento_integration(server, **fields))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_it_finds_an_order_with_its_shipments_and_normalises_it(magento_server, make_client):
    order = magento_server.add_order(
        "000000123", email="anna@example.dk", billing_postcode="2100", items=CONFIGURABLE_ITEMS
    )
    magento_server.add_shipment(order, ("gls", "GLS", "GLS123"), ("custom", "Byens Bud", "BB-1"))
    magento_server.add_order("000000124")

    found = make_client(magento_server).fetch_order("000000123")

    assert found.number == "000000123"
    assert found.status is OrderStatus.SHIPPED  # processing, with a shipment
    assert found.raw_status == "processing"
    assert found.placed_at == datetime(2025, 3, 14, 8, 30, tzinfo=UTC)
    assert found.items == (LineItem("Vinkøler", 1, "COOL-RED"), LineItem("Barolo DOCG 2019", 6, "BAR-2019"))
    assert found.shipments == (
        Shipment("GLS", "GLS123", "https://gls-group.com/DK/da/find-pakke?match=GLS123"),
        Shipment("Byens Bud", "BB-1", "https://byensbud.example/spor/BB-1"),
    )
    assert (found.customer_email, found.postcode) == ("anna@example.dk", "2100")
    assert magento_server.signature_failures == 0


def test_it_searches_orders_by_increment_id_then_shipments_by_order_id(magento_server, make_client):
    order = magento_server.add_order("000000123")

    make_client(magento_server).fetch_order("#000000123")

    orders, shipments = magento_server.requests
    assert orders.path == "/rest/default/V1/orders"
    assert dict(orders.query) == {
        f"{ORDER_FILTER}[field]": "increment_id",
        f"{ORDER_FILTER}[value]": "000000123",
        f"{ORDER_FILTER}[conditionType]": "eq",
        "searchCriteria[pageSize]": "20",
    }
    assert shipments.path == "/rest/default/V1/shipments"
    assert dict(shipments.query)[f"{ORDER_FILTER}[field]"] == "order_id"
    assert dict(shipments.query)[f"{ORDER_FILTER}[value]"] == str(order["entity_id"])


def test_requests_carry_an_oauth1_hmac_sha256_signature(magento_server, make_client):
    make_client(magento_server).fetch_order("000000123")

    header = magento_server.requests[0].headers["authorization"]
    assert header.startswith("OAuth ")
    assert 'oauth_signature_method="HMAC-SHA256"' in header
    assert magento_server.consumer_secret not in header
    assert magento_server.access_token_secret not in header


def test_a_wrong_consumer_secret_fails_the_signature_check_permanently(magento_server, make_client):
    credentials = magento_server.oauth_credentials | {"consumer_secret": "wrong-consumer-secret-0123"}

    with pytest.raises(OrderClientError) as caught:
        make_client(magento_server, credentials=credentials).fetch_order("000000123")

    assert caught.value.code == "order_auth_failed"
    assert caught.value.permanent
    assert magento_server.signature_failures == 1
    assert len(magento_server.requests) == 1
    assert "wrong-consumer-secret-0123" not in str(caught.value)


def test_no_credential_or_personal_data_is_logged(magento_server, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    order = magento_server.add_order("000000123", email="anna@example.dk", billing_postcode="2100")
    magento_server.add_shipment(order, ("gls", "GLS", "GLS123"))
    magento_server.fail_next(status=503)

    make_client(magento_server).fetch_order("000000123")

    for value in [*magento_server.oauth_credentials.values(), "anna@example.dk", "2100"]:
        assert value not in caplog.text


def test_every_retry_is_signed_anew(magento_server, make_client):
    magento_server.add_order("000000123")
    magento_server.fail_next(status=503)

    assert make_client(magento_server).fetch_order("000000123").number == "000000123"

    first, second = magento_server.requests[:2]
    assert first.headers["authorization"] != second.headers["authorization"]
    assert magento_server.signature_failures == 0


def test_bearer_mode_sends_the_token(magento_server, make_client):
    magento_server.add_order("000000123")

    found = make_client(magento_server, auth_mode="bearer").fetch_order("000000123")

    assert found.number == "000000123"
    assert magento_server.requests[0].headers["authorization"] == f"Bearer {magento_server.bearer_token}"


def test_an_expired_bearer_token_is_a_permanent_auth_error(magento_server, make_client):
    client = make_client(magento_server, auth_mode="bearer")
    magento_server.expire_bearer_tokens()

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("000000123")

    assert caught.value.code == "order_auth_failed"
    assert caught.value.permanent
    assert len(magento_server.requests) == 1


def test_an_unknown_order_is_none(magento_server, make_client):
    magento_server.add_order("000000123")

    assert make_client(magento_server).fetch_order("00000012") is None
    assert len(magento_server.requests_to("/shipments")) == 0


def test_the_store_code_is_part_of_the_path(magento_server, make_client):
    magento_server.add_order("000000123")

    assert make_client(magento_server, store_code="da").fetch_order("000000123") is not None
    assert magento_server.requests[0].path == "/rest/da/V1/orders"


def test_an_unknown_store_code_is_named(magento_server, make_client):
    with pytest.raises(OrderClientError) as caught:
        make_client(magento_server, store_code="dk").fetch_order("000000123")

    assert caught.value.code == "order_misconfigured"
    assert caught.value.permanent
    assert "store code 'dk' does not exist" in caught.value.message


def test_a_wrong_base_url_is_told_apart_from_a_wrong_store_code(magento_server):
    integration = magento_integration(magento_server, store_code="da")
    integration.base_url = f"{magento_server.base_url}/shop"
    client = Magento2Client.from_integration(integration)

    with pytest.raises(OrderClientError) as caught:
        client.check_connection()

    assert caught.value.code == "order_misconfigured"
    assert "no Magento 2 REST API" in caught.value.message
    client.close()


def test_the_postcode_falls_back_to_the_shipping_address(magento_server, make_client):
    magento_server.add_order("000000123", billing_postcode=None, shipping_postcode="8000")

    assert make_client(magento_server).fetch_order("000000123").postcode == "8000"


def test_a_429_is_retried_after_retry_after(magento_server, make_client):
    magento_server.add_order("000000123")
    magento_server.fail_next(status=429, retry_after="0.3", body={"message": "Too Many Requests"})

    assert make_client(magento_server).fetch_order("000000123") is not None
    first, second = magento_server.requests[:2]
    assert second.at - first.at >= 0.29


def test_a_failing_server_gets_three_attempts_then_an_unavailable_error(magento_server, make_client):
    magento_server.fail_next(
        5, status=500, body={"message": "Internal Error. Details are available in Magento log file."}
    )

    with pytest.raises(OrderClientError) as caught:
        make_client(magento_server).fetch_order("000000123")

    assert caught.value.code == "order_unavailable"
    assert not caught.value.permanent
    assert len(magento_server.requests) == 3


def test_check_connection_reports_the_store_view(magento_server, make_client):
    assert make_client(magento_server).check_connection() == (
        "Magento 2 store view 'default' reached; orders are readable."
    )


@pytest.mark.parametrize(
    ("order", "shipped", "expected"),
    [
        ({"status": "pending", "state": "new"}, False, OrderStatus.RECEIVED),
        ({"status": "processing", "state": "processing"}, False, OrderStatus.RECEIVED),
        ({"status": "processing", "state": "processing"}, True, OrderStatus.SHIPPED),
        ({"status": "complete", "state": "complete"}, True, OrderStatus.SHIPPED),
        ({"status": "canceled", "state": "canceled"}, False, OrderStatus.CANCELLED),
        ({"status": "closed", "state": "closed"}, True, OrderStatus.CANCELLED),
        ({"status": "holded", "state": "holded"}, False, OrderStatus.RECEIVED),
        ({"status": "klar_til_afsendelse", "state": "processing"}, True, OrderStatus.SHIPPED),
        ({"status": "fraud", "state": "suspected_fraud"}, False, OrderStatus.UNKNOWN),
    ],
)
def test_statuses_are_normalised(order, shipped, expected):
    assert magento_status(order, shipped=shipped) is expected
