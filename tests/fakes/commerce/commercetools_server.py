"""A commercetools-shaped server: the OAuth token endpoint and orders by order number.

It serves both hosts on one port (point the integration's `base_url` and `options["auth_url"]` at
`base_url`):

- `POST /oauth/token` with HTTP basic auth and `grant_type=client_credentials&scope=...` ->
  `{"access_token", "expires_in", "scope", "token_type": "Bearer"}`; 401 `invalid_client`.
- `GET /<projectKey>/orders/order-number=<n>` -> the Order, 404 `ResourceNotFound`.
- `GET /<projectKey>/orders?limit=..` -> a PagedQueryResponse.

Error bodies are commercetools' (`statusCode`, `message`, `errors[]`); a bearer token that is not
one the server issued, or that `expire_tokens()` expired, gets 401 `invalid_token`. Each server
has its own client id, so token cache keys never collide between tests.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from tests.fakes.commerce.json_server import Answer, FakeJsonApi, RecordedRequest


def _error(status: int, code: str, message: str, **extra: Any) -> Answer:
    return (
        status,
        {},
        {"statusCode": status, "message": message, "errors": [{"code": code, "message": message}], **extra},
    )


def commercetools_order(
    number: str,
    *,
    order_state: str = "Confirmed",
    shipment_state: str | None = "Shipped",
    email: str = "kunde@example.com",
    postal_code: str = "8000",
    parcels: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An Order as the API returns it (trimmed to the fields a lookup can touch)."""
    order: dict[str, Any] = {
        "type": "Order",
        "id": str(uuid.uuid4()),
        "version": 3,
        "orderNumber": number,
        "customerEmail": email,
        "createdAt": "2025-03-14T08:30:00.000Z",
        "lastModifiedAt": "2025-03-15T12:00:00.000Z",
        "orderState": order_state,
        "paymentState": "Paid",
        "origin": "Customer",
        "shippingMode": "Single",
        "totalPrice": {
            "type": "centPrecision",
            "currencyCode": "DKK",
            "centAmount": 119400,
            "fractionDigits": 2,
        },
        "lineItems": [
            {
                "id": str(uuid.uuid4()),
                "productId": str(uuid.uuid4()),
                "name": {"da-DK": "Barolo DOCG 2019", "en": "Barolo DOCG 2019 (EN)"},
                "variant": {"id": 1, "sku": "BAR-19"},
                "quantity": 6,
                "lineItemMode": "Standard",
            },
            {
                "id": str(uuid.uuid4()),
                "productId": str(uuid.uuid4()),
                "name": {"en": "Gift box"},
                "variant": {"id": 2, "sku": "GIFT-1"},
                "quantity": 1,
                "lineItemMode": "Standard",
            },
        ],
        "customLineItems": [],
        "shippingAddress": {
            "country": "DK",
            "postalCode": postal_code,
            "city": "Aarhus",
            "streetName": "Vestergade",
        },
        "shippingInfo": {
            "shippingMethodName": "GLS Pakkeshop",
            "deliveries": [
                {
                    "id": str(uuid.uuid4()),
                    "createdAt": "2025-03-15T10:00:00.000Z",
                    "items": [],
                    "parcels": [
                        {
                            "id": str(uuid.uuid4()),
                            "createdAt": "2025-03-15T10:00:00.000Z",
                            "trackingData": data,
                            "items": [],
                        }
                        for data in (parcels if parcels is not None else [])
                    ],
                }
            ],
        },
    }
    if shipment_state is not None:
        order["shipmentState"] = shipment_state
    return order


class FakeCommercetools(FakeJsonApi):
    name = "fake-commercetools"

    def __init__(self, project_key: str = "wine-shop") -> None:
        super().__init__()
        self.project_key = project_key
        self.client_id = f"ct-client-{uuid.uuid4().hex[:12]}"
        self.client_secret = f"ct-secret-{secrets.token_hex(12)}"
        self.token_lifetime = 172800  # commercetools issues tokens for 48 hours
        self.orders: dict[str, dict[str, Any]] = {}
        self._tokens: set[str] = set()

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        self.orders[order["orderNumber"]] = order
        return order

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (as after its expiry)."""
        with self._lock:
            self._tokens.clear()

    def token_requests(self) -> list[RecordedRequest]:
        return self.requests_to("/oauth/token")

    def order_requests(self) -> list[RecordedRequest]:
        return self.requests_to(f"/{self.project_key}/orders")

    def answer(self, request: RecordedRequest) -> Answer:
        if request.method == "POST" and request.path == "/oauth/token":
            return self._token(request)
        with self._lock:
            known = request.bearer() in self._tokens
        if not known:
            return _error(
                401,
                "invalid_token",
                "The access token is invalid or has expired.",
                error="invalid_token",
                error_description="The access token is invalid or has expired.",
            )
        prefix = f"/{self.project_key}/orders"
        if request.method == "GET" and request.path.startswith(f"{prefix}/order-number="):
            number = unquote(request.path.removeprefix(f"{prefix}/order-number="))
            order = self.orders.get(number)
            if order is None:
                return _error(404, "ResourceNotFound", f"The Resource with key '{number}' was not found.")
            return 200, {}, order
        if request.method == "GET" and request.path == prefix:
            limit = int(request.query.get("limit", ["20"])[0])
            results = list(self.orders.values())[:limit]
            return 200, {}, {"limit": limit, "offset": 0, "count": len(results), "results": results}
        return _error(404, "ResourceNotFound", "The Resource was not found.")

    def _token(self, request: RecordedRequest) -> Answer:
        if request.basic_auth() != (self.client_id, self.client_secret):
            message = "Please provide valid client credentials using HTTP Basic Authentication."
            return _error(401, "invalid_client", message, error="invalid_client", error_description=message)
        form = request.form()
        if form.get("grant_type") != ["client_credentials"]:
            return _error(
                400, "unsupported_grant_type", "Unsupported grant type.", error="unsupported_grant_type"
            )
        scope = form.get("scope", [f"manage_project:{self.project_key}"])[0]
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        return (
            200,
            {},
            {
                "access_token": token,
                "expires_in": self.token_lifetime,
                "scope": scope,
                "token_type": "Bearer",
            },
        )


# Named explicitly so a test module can import it under another name (no shadowing, ruff F811).
@pytest.fixture(name="commercetools_server")
def commercetools_server() -> Iterator[FakeCommercetools]:
    with FakeCommercetools() as server:
        yield server
