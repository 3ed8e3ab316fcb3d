from datetime import UTC, datetime

import pytest

from tests.fakes.commerce.http_api_server import (
    ORDER_PATH,
    SEARCH_PATH,
    FakeOrderApi,
    nested_order,
)
from tests.fakes.commerce.http_api_server import http_api_server as _http_api_server  # noqa: F401  (fixture)
from tests.tracking.integration_helpers import FAST, assert_no_secret, integration
from tracking.clients.base import OrderClientError
from tracking.clients.http_api import HttpApiClient
from tracking.orders import LineItem, OrderStatus, Shipment

pytestmark = pytest.mark.django_db

ORDER_FIELDS = {
    "number": "reference",
    "status": "state.code",
    "placed_at": "timestamps.created",
    "email": "buyer.contact.mail",
    "postcode": "buyer.address.zip",
    "items": "positions",
    "item_name": "article.title",
    "item_quantity": "amount.value",
    "item_sku": "article.number",
    "shipments": "fulfilment.parcels[?kind != 'return']",
    "shipment_carrier": "company",
    "shipment_tracking_number": "code",
    "shipment_tracking_url": "link",
}
STATUS_MAP = {"NEW": "received", "PICKED": "packed", "IN_TRANSIT": "shipped", "DONE": "delivered"}
GET_OPTIONS = {
    "url_template": "/v2/shops/acme/orders/{order_number}",
    "auth_scheme": "bearer",
    "headers": {"Accept-Language": "da"},
    "mapping": {"order": "data.order", **ORDER_FIELDS},
    "status_map": STATUS_MAP,
}
SEARCH_OPTIONS = {
    "url_template": SEARCH_PATH,
    "method": "POST",
    "body_template": {"query": {"reference": "{order_number}"}, "limit": 1},
    "auth_scheme": "basic",
    "mapping": {"order": "hits[0]", **ORDER_FIELDS},
    "status_map": STATUS_MAP,
}


def client_for(server: FakeOrderApi, options: dict, credentials: dict, **overrides) -> HttpApiClient:
    configured = integration("http", base_url=server.base_url, credentials=credentials, options=options)
    return HttpApiClient.from_integration(configured, **{**FAST, **overrides})


def bearer_client(server: FakeOrderApi, overrides: dict | None = None, **options) -> HttpApiClient:
    server.auth = ("bearer", "order-api-token-1")
    return client_for(server, {**GET_OPTIONS, **options}, {"token": "order-api-token-1"}, **(overrides or {}))


def test_it_maps_a_nested_order_end_to_end(http_api_server):
    http_api_server.add_order(nested_order("WEB-1001"))

    order = bearer_client(http_api_server).fetch_order("WEB-1001")

    assert order.number == "WEB-1001"
    assert (order.status, order.raw_status) == (OrderStatus.SHIPPED, "IN_TRANSIT")
    assert order.placed_at == datetime(2025, 3, 14, 8, 30, tzinfo=UTC)
    assert order.items == (
        LineItem(name="Barolo DOCG 2019", quantity=6, sku="BAR-19"),
        LineItem(name="Champagne Brut", quantity=2, sku="CH-BRUT"),
    )
    assert order.shipments == (
        Shipment("PostNord", "00370712345678", "https://tracking.postnord.com/dk/?id=00370712345678"),
        Shipment("DHL", "JD0001", "https://dhl.example/t/JD0001"),
    )
    assert (order.customer_email, order.postcode) == ("kunde@example.com", "8000")
    (request,) = http_api_server.requests
    assert request.headers["authorization"] == "Bearer order-api-token-1"
    assert request.headers["accept-language"] == "da"


def test_it_url_encodes_the_order_number_and_matches_it_loosely(http_api_server):
    http_api_server.add_order(nested_order("WEB/1001"))

    order = bearer_client(http_api_server).fetch_order(" web/1001 ")

    assert order.number == "WEB/1001"
    assert http_api_server.requests[0].path == ORDER_PATH + "web%2F1001"


def test_it_returns_none_for_an_unknown_order(http_api_server):
    assert bearer_client(http_api_server).fetch_order("WEB-404") is None


def test_it_treats_an_answer_for_another_order_as_not_found(http_api_server):
    http_api_server.script_next(200, path=ORDER_PATH, body={"data": {"order": nested_order("WEB-1002")}})

    assert bearer_client(http_api_server).fetch_order("WEB-1001") is None


def test_it_reports_an_answer_without_the_mapped_number_as_a_bad_response(http_api_server):
    http_api_server.script_next(200, path=ORDER_PATH, body={"data": {"order": {"state": {"code": "NEW"}}}})

    with pytest.raises(OrderClientError) as caught:
        bearer_client(http_api_server).fetch_order("WEB-1001")

    assert caught.value.code == "order_bad_response"


def test_it_treats_configured_statuses_as_not_found(http_api_server):
    http_api_server.not_found_status = 410

    assert bearer_client(http_api_server, not_found_statuses=[404, 410]).fetch_order("WEB-1") is None


def test_it_reports_statuses_not_configured_as_not_found_as_misconfiguration(http_api_server):
    with pytest.raises(OrderClientError) as caught:
        bearer_client(http_api_server, not_found_statuses=[410]).fetch_order("WEB-1")

    assert (caught.value.code, caught.value.permanent) == ("order_misconfigured", True)


def test_it_searches_with_post_and_basic_auth(http_api_server):
    http_api_server.auth = ("basic", "chatbot", "basic-pass-7")
    http_api_server.add_order(nested_order("WEB-1001", state="DONE"))
    client = client_for(http_api_server, SEARCH_OPTIONS, {"username": "chatbot", "password": "basic-pass-7"})

    order = client.fetch_order("WEB-1001")

    assert (order.number, order.status) == ("WEB-1001", OrderStatus.DELIVERED)
    assert client.fetch_order("WEB-404") is None
    assert [r.json() for r in http_api_server.requests_to(SEARCH_PATH, "POST")] == [
        {"query": {"reference": "WEB-1001"}, "limit": 1},
        {"query": {"reference": "WEB-404"}, "limit": 1},
    ]


def test_it_retries_a_post_lookup_like_a_read(http_api_server):
    http_api_server.auth = ("basic", "chatbot", "basic-pass-7")
    http_api_server.script_next(503, path=SEARCH_PATH, times=5)
    client = client_for(http_api_server, SEARCH_OPTIONS, {"username": "chatbot", "password": "basic-pass-7"})

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("WEB-1001")

    assert caught.value.code == "order_unavailable"
    assert len(http_api_server.requests) == 3


def test_it_sends_an_api_key_in_the_configured_header(http_api_server):
    http_api_server.auth = ("header", "X-Shop-Key", "shop-key-55")
    http_api_server.add_order(nested_order("WEB-1001"))
    options = {**GET_OPTIONS, "auth_scheme": "header", "auth_header": "X-Shop-Key"}

    order = client_for(http_api_server, options, {"api_key": "shop-key-55"}).fetch_order("WEB-1001")

    assert order.number == "WEB-1001"


def test_it_refuses_a_wrong_token_permanently_without_retrying(http_api_server):
    http_api_server.auth = ("bearer", "the-right-token")

    with pytest.raises(OrderClientError) as caught:
        client_for(http_api_server, GET_OPTIONS, {"token": "wrong-token-31"}).fetch_order("WEB-1001")

    assert (caught.value.code, caught.value.permanent) == ("order_auth_failed", True)
    assert len(http_api_server.requests) == 1
    assert_no_secret(caught.value, "wrong-token-31")


def test_it_times_out_within_the_budget(http_api_server):
    http_api_server.script_next(path=ORDER_PATH, delay=3, times=3)
    client = bearer_client(http_api_server, {"timeout": 0.2, "budget": 0.6})

    with pytest.raises(OrderClientError) as caught:
        client.fetch_order("WEB-1001")

    assert caught.value.code == "order_timeout"
    # Attempts of 0.2 s within a 0.6 s budget: never more than three, however slow the machine.
    assert 1 <= len(http_api_server.requests) <= 3


def test_it_checks_the_connection_with_a_real_order(http_api_server):
    http_api_server.add_order(nested_order("WEB-1001"))

    message = bearer_client(http_api_server, check_order_number="WEB-1001").check_connection()

    assert "mapped, status shipped" in message


def validation_errors(options: dict, credentials: dict | None = None) -> dict[str, list[str]]:
    instance = integration(
        "http", base_url="https://orders.example", credentials=credentials or {}, options=options, save=False
    )
    return HttpApiClient.validate(instance)


def test_a_valid_configuration_has_no_errors():
    assert validation_errors(GET_OPTIONS, {"token": "t"}) == {}
    assert validation_errors(SEARCH_OPTIONS, {"username": "u", "password": "p"}) == {}


def test_it_reports_invalid_jmespath_with_field_and_parse_error():
    options = {
        **GET_OPTIONS,
        "mapping": {**GET_OPTIONS["mapping"], "status": "state.[code", "item_sku": "a b"},
    }

    errors = validation_errors(options, {"token": "t"})["options"]

    assert errors[0].startswith("mapping.status: invalid JMESPath 'state.[code': ")
    assert "Incomplete expression" in errors[0] or "Parse error" in errors[0]
    assert errors[1].startswith("mapping.item_sku: invalid JMESPath 'a b': Unexpected token")


@pytest.mark.parametrize(
    ("url_template", "message"),
    [
        ("/v2/orders", "url_template: must contain {order_number}."),
        ("/v2/{shop}/orders/{order_number}", "url_template: only {order_number} may be used, not {shop}."),
        ("", "url_template: required, e.g. /api/orders/{order_number}."),
        ("ftp://files.example/{order_number}", "url_template: an absolute URL must be http(s)."),
    ],
)
def test_it_checks_the_url_template(url_template, message):
    errors = validation_errors({**GET_OPTIONS, "url_template": url_template}, {"token": "t"})

    assert errors["options"] == [message]


def test_a_post_lookup_may_carry_the_number_in_its_body_alone():
    assert validation_errors(SEARCH_OPTIONS, {"username": "u", "password": "p"}) == {}
    body_without_number = {**SEARCH_OPTIONS, "body_template": {"query": {}}}
    errors = validation_errors(body_without_number, {"username": "u", "password": "p"})
    assert errors["options"] == ["url_template or body_template: must contain {order_number}."]


@pytest.mark.parametrize(
    ("auth_scheme", "credentials", "missing"),
    [
        ("bearer", {}, ["token is required."]),
        ("basic", {"username": "u"}, ["password is required."]),
        ("header", {"token": "t"}, ["api_key is required."]),
    ],
)
def test_it_requires_the_credentials_of_the_auth_scheme(auth_scheme, credentials, missing):
    errors = validation_errors({**GET_OPTIONS, "auth_scheme": auth_scheme}, credentials)

    assert errors["credentials"] == missing


def test_it_keeps_secrets_out_of_plain_headers():
    options = {**GET_OPTIONS, "headers": {"Authorization": "Bearer abc"}}

    assert validation_errors(options, {"token": "t"})["options"] == [
        "headers: Authorization carries a secret; use auth_scheme and credentials."
    ]


def test_it_checks_mapping_fields_and_status_targets():
    mapping = {"number": "reference", "items": "positions", "colour": "x"}
    options = {**GET_OPTIONS, "mapping": mapping, "status_map": {"NEW": "fresh"}}

    errors = validation_errors(options, {"token": "t"})["options"]

    assert errors[0].startswith("mapping.colour: unknown field")
    assert "mapping.status: a JMESPath expression is required." in errors
    assert "mapping.item_name: needed when mapping.items is set." in errors
    assert errors[-1].startswith("status_map.NEW: 'fresh' is not one of")


def test_it_refuses_to_build_a_misconfigured_client_without_echoing_secrets():
    instance = integration(
        "http",
        base_url="https://orders.example",
        credentials={"token": "very-secret-token"},
        options={**GET_OPTIONS, "url_template": "/orders"},
        save=False,
    )

    with pytest.raises(OrderClientError) as caught:
        HttpApiClient.from_integration(instance)

    assert (caught.value.code, caught.value.permanent) == ("order_misconfigured", True)
    assert_no_secret(caught.value, "very-secret-token")
