"""A Magento 2-shaped REST server that verifies OAuth 1.0a signatures.

- `GET /rest/<store_code>/V1/orders` and `GET /rest/<store_code>/V1/shipments` (and `/rest/V1/...`
  for the default store view) with `searchCriteria[filterGroups][0][filters][0][field|value|
  conditionType]` and `searchCriteria[pageSize]` -> `{"items", "search_criteria", "total_count"}`.
  A store code the shop does not have leaves the path unrouted, as Magento's PathProcessor does:
  404 `{"message": "Request does not match any route."}`. No `searchCriteria` -> 400.
- Authentication: `Authorization: OAuth ...` is verified like Magento does for an integration:
  known consumer key and access token, HMAC-SHA256, a fresh nonce, a recent timestamp, and the
  signature recomputed here with oauthlib's server-side functions from the request as received.
  `Authorization: Bearer <token>` must be a token in `bearer_tokens`. Anything else gets 401
  with Magento's message.

Test controls: `add_order`, `add_shipment`, `stores`, `bearer_tokens`, `expire_bearer_tokens`,
plus `fail_next` and `delay_next`; `signature_failures` counts rejected signatures.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from oauthlib.common import Request
from oauthlib.oauth1.rfc5849 import signature, utils

from tests.fakes.commerce.local_server import FakeCommerceServer, RecordedRequest, Reply

_ROUTE = re.compile(r"^/rest/(?:(?P<store>[^/]+)/)?V1/(?P<resource>orders|shipments)$")
_FILTER = re.compile(
    r"^searchCriteria\[filterGroups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(field|value|conditionType)\]$"
)
NOT_AUTHORIZED = {
    "message": "The consumer isn't authorized to access %resources.",
    "parameters": {"resources": "Magento_Sales::actions_view"},
}
TIMESTAMP_WINDOW_SECONDS = 600


def magento_order(
    increment_id: str,
    *,
    entity_id: int,
    status: str = "processing",
    state: str | None = None,
    email: str = "kunde@example.com",
    billing_postcode: str | None = "8000",
    shipping_postcode: str = "8000",
    items: list[dict[str, Any]] | None = None,
    created_at: str = "2025-03-14 08:30:00",
) -> dict[str, Any]:
    """A SalesDataOrderInterface as the API returns it (trimmed to what a lookup can touch)."""
    address = {
        "address_type": "shipping",
        "city": "Aarhus",
        "country_id": "DK",
        "postcode": shipping_postcode,
    }
    billing = {"address_type": "billing", "city": "Aarhus", "country_id": "DK"}
    if billing_postcode is not None:
        billing["postcode"] = billing_postcode
    return {
        "entity_id": entity_id,
        "increment_id": increment_id,
        "status": status,
        "state": state or status,
        "created_at": created_at,
        "customer_email": email,
        "grand_total": 1194.0,
        "order_currency_code": "DKK",
        "items": items
        if items is not None
        else [
            {
                "item_id": 1,
                "name": "Barolo DOCG 2019",
                "sku": "BAR-2019",
                "qty_ordered": 2,
                "product_type": "simple",
            }
        ],
        "billing_address": billing,
        "extension_attributes": {
            "shipping_assignments": [{"shipping": {"address": address, "method": "gls_gls"}}]
        },
    }


class FakeMagentoServer(FakeCommerceServer):
    """One Magento 2 shop with an OAuth integration, bearer tokens, store views and orders."""

    def __init__(self) -> None:
        super().__init__()
        self.consumer_key = secrets.token_hex(16)
        self.consumer_secret = secrets.token_hex(16)
        self.access_token = secrets.token_hex(16)
        self.access_token_secret = secrets.token_hex(16)
        self.bearer_tokens = {secrets.token_hex(16)}
        self.stores = {"default", "da"}
        self.orders: list[dict[str, Any]] = []
        self.shipments: list[dict[str, Any]] = []
        self.signature_failures = 0
        self._nonces: set[str] = set()

    @property
    def oauth_credentials(self) -> dict[str, str]:
        return {
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "access_token": self.access_token,
            "access_token_secret": self.access_token_secret,
        }

    @property
    def bearer_token(self) -> str:
        return next(iter(self.bearer_tokens))

    # --- test controls ---------------------------------------------------------------------
    def add_order(self, increment_id: str, **fields: Any) -> dict[str, Any]:
        fields.setdefault("entity_id", len(self.orders) + 101)
        order = magento_order(increment_id, **fields)
        self.orders.append(order)
        return order

    def add_shipment(self, order: dict[str, Any], *tracks: tuple[str, str, str]) -> dict[str, Any]:
        """A shipment of the order with tracks given as (carrier_code, title, track_number)."""
        entity_id = len(self.shipments) + 501
        shipment = {
            "entity_id": entity_id,
            "order_id": order["entity_id"],
            "increment_id": f"S{entity_id}",
            "created_at": "2025-03-15 09:00:00",
            "items": [],
            "tracks": [
                {
                    "entity_id": entity_id * 10 + n,
                    "order_id": order["entity_id"],
                    "parent_id": entity_id,
                    "carrier_code": code,
                    "title": title,
                    "track_number": number,
                }
                for n, (code, title, number) in enumerate(tracks)
            ],
        }
        self.shipments.append(shipment)
        return shipment

    def expire_bearer_tokens(self) -> None:
        with self._lock:
            self.bearer_tokens = set()

    # --- the API ---------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        route = _ROUTE.match(request.path)
        store = route["store"] if route else None
        if (
            route is None
            or request.method != "GET"
            or (store is not None and store not in self.stores | {"all"})
        ):
            return Reply(404, {"message": "Request does not match any route."})
        problem = self._authenticate(request)
        if problem is not None:
            return problem
        query = request.query
        if not any(key.startswith("searchCriteria") for key, _ in query):
            return Reply(
                400,
                {
                    "message": '"%fieldName" is required. Enter and try again.',
                    "parameters": {"fieldName": "searchCriteria"},
                },
            )
        records = self.orders if route["resource"] == "orders" else self.shipments
        found = [record for record in records if _passes(record, query)]
        size = int(dict(query).get("searchCriteria[pageSize]") or 0) or len(found)
        return Reply(
            200, {"items": found[:size], "search_criteria": _criteria(query), "total_count": len(found)}
        )

    def _authenticate(self, request: RecordedRequest) -> Reply | None:
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer "):
            with self._lock:
                ok = header.removeprefix("Bearer ") in self.bearer_tokens
            return None if ok else Reply(401, NOT_AUTHORIZED)
        if not header.lower().startswith("oauth "):
            return Reply(401, NOT_AUTHORIZED)
        try:
            params = dict(utils.parse_authorization_header(header))
        except ValueError:
            return Reply(400, {"message": "Malformed OAuth header"})
        oauth = {key: utils.unescape(value) for key, value in params.items()}
        if oauth.get("oauth_consumer_key") != self.consumer_key:
            return Reply(401, {"message": "A consumer with ID %1 does not exist.", "parameters": ["unknown"]})
        if oauth.get("oauth_token") != self.access_token:
            return Reply(401, {"message": "The token is not valid."})
        if oauth.get("oauth_signature_method") != "HMAC-SHA256":
            return Reply(
                401,
                {
                    "message": "Signature method %1 is not supported",
                    "parameters": [oauth.get("oauth_signature_method")],
                },
            )
        if abs(time.time() - int(oauth.get("oauth_timestamp") or 0)) > TIMESTAMP_WINDOW_SECONDS:
            return Reply(401, {"message": "The timestamp is out of range."})
        with self._lock:
            nonce = oauth.get("oauth_nonce") or ""
            reused = nonce in self._nonces
            self._nonces.add(nonce)
        if reused:
            return Reply(401, {"message": "The nonce is already being used by the consumer."})
        if not self._signature_valid(request, oauth.get("oauth_signature", "")):
            with self._lock:
                self.signature_failures += 1
            return Reply(401, {"message": "The signature is invalid. Verify and try again."})
        return None

    def _signature_valid(self, request: RecordedRequest, given: str) -> bool:
        # Recompute from the request as it arrived: the Host header and the raw path and query.
        uri = f"http://{request.headers['host']}{request.raw_path}"
        oauth_request = Request(
            uri, http_method=request.method, headers={"Authorization": request.headers["authorization"]}
        )
        oauth_request.params = signature.collect_parameters(
            uri_query=request.raw_path.partition("?")[2],
            headers={"Authorization": request.headers["authorization"]},
            exclude_oauth_signature=True,
        )
        oauth_request.signature = given
        return signature.verify_hmac_sha256(oauth_request, self.consumer_secret, self.access_token_secret)


def _passes(record: dict[str, Any], query: list[tuple[str, str]]) -> bool:
    """Filters of one group are ORed, groups are ANDed; eq (default), like and in are supported."""
    for filters in _filter_groups(query).values():
        if not any(_filter_passes(record, f) for f in filters.values()):
            return False
    return True


def _filter_passes(record: dict[str, Any], spec: dict[str, str]) -> bool:
    have = str(record.get(spec.get("field", ""), "")).lower()
    value = spec.get("value", "").lower()
    condition = spec.get("conditionType", "eq")
    if condition == "like":
        return re.fullmatch(re.escape(value).replace("%", ".*"), have) is not None
    if condition == "in":
        return have in value.split(",")
    return have == value


def _filter_groups(query: list[tuple[str, str]]) -> dict[str, dict[str, dict[str, str]]]:
    groups: dict[str, dict[str, dict[str, str]]] = {}
    for key, value in query:
        match = _FILTER.match(key)
        if match:
            group, index, part = match.groups()
            groups.setdefault(group, {}).setdefault(index, {})[part] = value
    return groups


def _criteria(query: list[tuple[str, str]]) -> dict[str, Any]:
    """The search_criteria echo, in the API's snake_case shape."""
    filter_groups = [
        {
            "filters": [
                {
                    "field": f.get("field"),
                    "value": f.get("value"),
                    "condition_type": f.get("conditionType", "eq"),
                }
                for _, f in sorted(filters.items())
            ]
        }
        for _, filters in sorted(_filter_groups(query).items())
    ]
    page_size = dict(query).get("searchCriteria[pageSize]")
    return {"filter_groups": filter_groups, **({"page_size": int(page_size)} if page_size else {})}


@pytest.fixture
def magento_server() -> Iterator[FakeMagentoServer]:
    """A started fake Magento 2 shop, stopped after the test."""
    server = FakeMagentoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
