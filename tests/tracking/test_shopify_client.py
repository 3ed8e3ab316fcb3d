import logging
from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from tests.fakes.commerce.shopify_server import FakeShopifyServer, shopify_fulfillment
from tests.tracking.factories import shopify_integration
from tracking.clients.base import OrderClientError
from tracking.clients.shopify import API_VERSION, ShopifyClient, shopify_status
from tracking.orders import LineItem, OrderStatus, Shipment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_http")]


@pytest.fixture
def make_client():
    clients: list[ShopifyClient] = []

    def make(server: FakeShopifyServer, **fields) -> ShopifyClient:
        client = ShopifyClient.from_integration(shopify_integration(server, **fields))
        clients.append(client)
        return client

    yield make
    for client in clients:
        cache.delete(client._token_cache_key())  # minted tokens must not outlive the test in Redis
        client.close()


def client_credentials(server: FakeShopifyServer, secret: str | None = None) -> dict:
    return {"credentials": {"client_id": server.client_id, "client_secret": secret or server.client_secret}}


def test_it_finds_an_order_and_normalises_it(shopify_server, make_client):
    shopify_server.add_order(
        "NV-1002",
        fulfillment="FULFILLED",
        email="anna@example.dk",
        zip_code="2100",
        line_items=[
            {"name": "Barolo DOCG 2019", "quantity": 2, "sku": "BAR-2019"},
            {"name": "Gavekort", "quantity": 1, "sku": None},
        ],
        fulfillments=[
            shopify_fulfillment(("GLS", "GLS123", None), ("PostNord", "PN9", "https://given.example/PN9")),
        ],
    )

    order = make_client(shopify_server).fetch_order("NV-1002")

    assert order.number == "NV-1002"
    assert order.status is OrderStatus.SHIPPED
    assert order.raw_status == "FULFILLED/PAID"
    assert order.placed_at == datetime(2025, 3, 14, 8, 30, tzinfo=UTC)
    assert order.items == (LineItem("Barolo DOCG 2019", 2, "BAR-2019"), LineItem("Gavekort", 1, ""))
    assert order.shipments == (
        Shipment("GLS", "GLS123", "https://gls.example/track/GLS123"),  # from the integration's template
        Shipment("PostNord", "PN9", "https://given.example/PN9"),  # as the API gave it
    )
    assert (order.customer_email, order.postcode) == ("anna@example.dk", "2100")


def test_it_queries_the_pinned_version_with_the_token_and_the_name_in_variables(shopify_server, make_client):
    make_client(shopify_server).fetch_order("#nv-1002 ")

    (request,) = shopify_server.graphql_requests()
    assert request.path == f"/admin/api/{API_VERSION}/graphql.json"
    assert request.headers["x-shopify-access-token"] == shopify_server.access_token
    assert request.json()["variables"] == {"query": 'name:"NV-1002" OR name:"#NV-1002"'}


def test_an_integration_can_pin_another_api_version(shopify_server, make_client):
    make_client(shopify_server, api_version="2025-10").fetch_order("1001")

    assert shopify_server.graphql_requests()[0].path == "/admin/api/2025-10/graphql.json"


def test_it_returns_only_the_exact_name(shopify_server, make_client):
    shopify_server.add_order("NV-10023")
    client = make_client(shopify_server)

    assert client.fetch_order("NV-1002") is None

    shopify_server.add_order("NV-1002")
    assert client.fetch_order("nv-1002").number == "NV-1002"


@pytest.mark.parametrize("typed", ["1001", "#1001", " #1001 "])
def test_it_matches_names_with_or_without_the_hash(shopify_server, make_client, typed):
    shopify_server.add_order("#1001")

    assert make_client(shopify_server).fetch_order(typed).number == "#1001"


def test_an_unknown_order_is_none(shopify_server, make_client):
    assert make_client(shopify_server).fetch_order("NV-9999") is None


def test_text_that_cannot_be_an_order_number_is_not_searched(shopify_server, make_client):
    client = make_client(shopify_server)

    assert client.fetch_order('1001" OR email:anna@example.dk') is None
    assert client.fetch_order("") is None
    assert shopify_server.requests == []


def test_a_throttled_query_is_retried_after_the_cost_based_wait(shopify_server, make_client):
    shopify_server.add_order("NV-1002")
    # 10 points missing at 50 points per second: 0.2 s.
    shopify_server.throttle_next(requested=12, available=2, restore_rate=50)

    order = make_client(shopify_server).fetch_order("NV-1002")

    assert order.number == "NV-1002"
    first, second = shopify_server.graphql_requests()
    assert second.at - first.at >= 0.19


def test_throttling_that_outlasts_the_budget_is_a_rate_limit_error(shopify_server, make_client):
    shopify_server.throttle_next(requested=500, available=0, restore_rate=50)  # a 10 s wait

    with pytest.raises(OrderClientError) as caught:
        make_client(shopify_server).fetch_order("NV-1002")

    assert caught.value.code == "order_rate_limited"
    assert not caught.value.permanent
    assert len(shopify_server.graphql_requests()) == 1


def test_a_429_is_retried_after_retry_after(shopify_server, make_client):
    shopify_server.add_order("NV-1002")
    shopify_server.fail_next(status=429, retry_after="0.3", body={"errors": "Exceeded 2 calls per second."})

    order = make_client(shopify_server).fetch_order("NV-1002")

    assert order.number == "NV-1002"
    first, second = shopify_server.graphql_requests()
    assert second.at - first.at >= 0.29


def test_a_failing_server_gets_three_attempts_then_an_unavailable_error(shopify_server, make_client):
    shopify_server.fail_next(5, status=500, body={"errors": "Internal Server Error"})

    with pytest.raises(OrderClientError) as caught:
        make_client(shopify_server).fetch_order("NV-1002")

    assert caught.value.code == "order_unavailable"
    assert not caught.value.permanent
    assert len(shopify_server.graphql_requests()) == 3


def test_a_slow_server_times_out(shopify_server, make_client, settings):
    settings.TRACKING_HTTP_TIMEOUT_SECONDS = 0.1
    shopify_server.delay_next(3, seconds=0.4)

    with pytest.raises(OrderClientError) as caught:
        make_client(shopify_server).fetch_order("NV-1002")

    assert caught.value.code == "order_timeout"
    assert not caught.value.permanent


def test_a_refused_token_is_permanent_and_not_retried(shopify_server, make_client):
    shopify_server.revoke_access_token()

    with pytest.raises(OrderClientError) as caught:
        make_client(shopify_server).fetch_order("NV-1002")

    assert caught.value.code == "order_auth_failed"
    assert caught.value.permanent
    assert "HTTP 401" in caught.value.message
    assert shopify_server.access_token not in str(caught.value)
    assert len(shopify_server.requests) == 1


def test_a_missing_orders_scope_is_an_auth_error(shopify_server, make_client):
    shopify_server.orders_scope = False

    with pytest.raises(OrderClientError) as caught:
        make_client(shopify_server).fetch_order("NV-1002")

    assert caught.value.code == "order_auth_failed"
    assert "read_orders" in caught.value.message


def test_client_credentials_mint_a_token_once_and_share_it_through_the_cache(shopify_server, make_client):
    shopify_server.add_order("NV-1002")

    make_client(shopify_server, **client_credentials(shopify_server)).fetch_order("NV-1002")
    make_client(shopify_server, **client_credentials(shopify_server)).fetch_order("NV-1002")

    (token_request,) = shopify_server.token_requests()
    assert token_request.form() == {
        "grant_type": "client_credentials",
        "client_id": shopify_server.client_id,
        "client_secret": shopify_server.client_secret,
    }
    first, second = (r.headers["x-shopify-access-token"] for r in shopify_server.graphql_requests())
    assert first == second != shopify_server.access_token


def test_the_cached_token_is_encrypted(shopify_server, make_client):
    client = make_client(shopify_server, **client_credentials(shopify_server))
    client.fetch_order("NV-1002")

    token = shopify_server.graphql_requests()[0].headers["x-shopify-access-token"]
    stored = cache.get(client._token_cache_key())
    assert stored
    assert token not in stored
    assert shopify_server.client_secret not in client._token_cache_key()


def test_an_expired_token_is_refreshed_once(shopify_server, make_client):
    shopify_server.add_order("NV-1002")
    make_client(shopify_server, **client_credentials(shopify_server)).fetch_order("NV-1002")
    shopify_server.expire_tokens()

    order = make_client(shopify_server, **client_credentials(shopify_server)).fetch_order("NV-1002")

    assert order.number == "NV-1002"
    assert len(shopify_server.token_requests()) == 2
    expired, refused, fresh = (r.headers["x-shopify-access-token"] for r in shopify_server.graphql_requests())
    assert expired == refused != fresh


def test_no_credential_or_personal_data_is_logged(shopify_server, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    shopify_server.add_order("NV-1002", email="anna@example.dk", zip_code="2100")
    make_client(shopify_server, **client_credentials(shopify_server)).fetch_order("NV-1002")
    shopify_server.expire_tokens()
    shopify_server.fail_next(status=503)

    make_client(shopify_server, **client_credentials(shopify_server)).fetch_order("NV-1002")

    tokens = {r.headers["x-shopify-access-token"] for r in shopify_server.graphql_requests()}
    for value in [*tokens, shopify_server.client_secret, "anna@example.dk", "2100"]:
        assert value not in caplog.text


def test_a_fresh_token_that_is_refused_is_not_refreshed_again(shopify_server, make_client):
    client = make_client(shopify_server, **client_credentials(shopify_server))
    shopify_server.fail_next(
        status=401,
        body={"errors": "[API] Invalid API key or access token"},
        when=lambda r: "graphql" in r.path,
    )

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("NV-1002")

    assert caught.value.code == "order_auth_failed"
    assert len(shopify_server.token_requests()) == 1


def test_a_wrong_client_secret_is_a_permanent_auth_error(shopify_server, make_client):
    client = make_client(
        shopify_server, **client_credentials(shopify_server, secret="shpss_wrong_0123456789")
    )

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("NV-1002")

    assert caught.value.code == "order_auth_failed"
    assert caught.value.permanent
    assert "client ID and secret" in caught.value.message
    assert "shpss_wrong_0123456789" not in str(caught.value)
    assert len(shopify_server.token_requests()) == 1
    assert shopify_server.graphql_requests() == []


def test_check_connection_names_the_shop(shopify_server, make_client):
    assert make_client(shopify_server).check_connection() == (
        f"Shopify store 'Nordic Vin' reached with API {API_VERSION}; orders are readable."
    )


def test_a_wrong_shop_url_is_a_misconfiguration(shopify_server):
    integration = shopify_integration(shopify_server)
    integration.base_url = f"{shopify_server.base_url}/not-a-shop"
    client = ShopifyClient.from_integration(integration)

    with pytest.raises(OrderClientError) as caught:
        client.check_connection()

    assert caught.value.code == "order_misconfigured"
    assert caught.value.permanent
    client.close()


def test_a_redirecting_shop_domain_is_a_misconfiguration(shopify_server, make_client):
    shopify_server.fail_next(status=301, body={}, when=lambda r: "graphql" in r.path)
    client = make_client(shopify_server)

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("NV-1002")

    assert caught.value.code == "order_misconfigured"
    assert "myshopify.com" in caught.value.message


def fulfilled(display_status: str, **fields) -> dict:
    return shopify_fulfillment(("GLS", "1", None), display_status=display_status, **fields)


@pytest.mark.parametrize(
    ("node", "fulfillments", "expected"),
    [
        (
            {"displayFulfillmentStatus": "UNFULFILLED", "displayFinancialStatus": "PAID"},
            [],
            OrderStatus.RECEIVED,
        ),
        (
            {"displayFulfillmentStatus": "UNFULFILLED", "displayFinancialStatus": "PENDING"},
            [],
            OrderStatus.RECEIVED,
        ),
        (
            {"displayFulfillmentStatus": "UNFULFILLED", "displayFinancialStatus": "VOIDED"},
            [],
            OrderStatus.UNKNOWN,
        ),
        (
            {"displayFulfillmentStatus": "IN_PROGRESS", "displayFinancialStatus": "PAID"},
            [],
            OrderStatus.PACKED,
        ),
        (
            {"displayFulfillmentStatus": "UNFULFILLED", "displayFinancialStatus": "PAID"},
            [fulfilled("LABEL_PRINTED")],
            OrderStatus.PACKED,
        ),
        ({"displayFulfillmentStatus": "PARTIALLY_FULFILLED"}, [fulfilled("IN_TRANSIT")], OrderStatus.SHIPPED),
        ({"displayFulfillmentStatus": "FULFILLED"}, [fulfilled("IN_TRANSIT")], OrderStatus.SHIPPED),
        (
            {"displayFulfillmentStatus": "FULFILLED"},
            [fulfilled("DELIVERED", delivered_at="2025-03-16T10:00:00Z")],
            OrderStatus.DELIVERED,
        ),
        (
            {"displayFulfillmentStatus": "FULFILLED"},
            [fulfilled("DELIVERED"), fulfilled("IN_TRANSIT")],
            OrderStatus.SHIPPED,
        ),
        (
            {"displayFulfillmentStatus": "UNFULFILLED", "cancelledAt": "2025-03-15T10:00:00Z"},
            [],
            OrderStatus.CANCELLED,
        ),
    ],
)
def test_statuses_are_normalised(node, fulfillments, expected):
    status, _ = shopify_status(node, fulfillments)

    assert status is expected


def test_the_raw_status_keeps_shopifys_words():
    node = {
        "displayFulfillmentStatus": "UNFULFILLED",
        "displayFinancialStatus": "REFUNDED",
        "cancelledAt": "x",
    }

    assert shopify_status(node, []) == (OrderStatus.CANCELLED, "UNFULFILLED/REFUNDED/CANCELLED")
