"""A JSON order API unlike any platform's, for the generic client's configurable mapping.

References are matched without case, as many shop APIs do.

- `GET /v2/shops/acme/orders/<reference>` -> `{"data": {"order": {...}}}`; `not_found_status`
  (404 unless a test changes it) with `{"error": {"code": "NOT_FOUND"}}` for an unknown order.
- `POST /v2/orders/search` `{"query": {"reference": "..."}}` -> `{"hits": [order...], "total": n}`
  (an empty list for an unknown order).

`auth` chooses what the server demands: None, `("bearer", token)`, `("basic", user, password)` or
`("header", name, value)`; anything else gets 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from tests.fakes.commerce.json_server import Answer, FakeJsonApi, RecordedRequest

ORDER_PATH = "/v2/shops/acme/orders/"
SEARCH_PATH = "/v2/orders/search"


def nested_order(reference: str, *, state: str = "IN_TRANSIT") -> dict[str, Any]:
    """An order nested the way no commerce platform does it, with epoch timestamps."""
    return {
        "reference": reference,
        "state": {"code": state, "label": "På vej"},
        "timestamps": {"created": 1741941000, "updated": 1742040000},
        "buyer": {
            "contact": {"mail": "kunde@example.com"},
            "address": {"zip": "8000", "street": "Vestergade 1"},
        },
        "positions": [
            {"article": {"title": "Barolo DOCG 2019", "number": "BAR-19"}, "amount": {"value": 6}},
            {"article": {"title": "Champagne Brut", "number": "CH-BRUT"}, "amount": {"value": 2.0}},
        ],
        "fulfilment": {
            "parcels": [
                {"kind": "outbound", "company": "PostNord", "code": "00370712345678", "link": None},
                {
                    "kind": "outbound",
                    "company": "DHL",
                    "code": "JD0001",
                    "link": "https://dhl.example/t/JD0001",
                },
                {"kind": "return", "company": "GLS", "code": "RET-9", "link": None},
            ]
        },
    }


class FakeOrderApi(FakeJsonApi):
    name = "fake-order-api"

    def __init__(self) -> None:
        super().__init__()
        self.auth: tuple[str, ...] | None = None
        self.not_found_status = 404
        self.orders: dict[str, dict[str, Any]] = {}

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        self.orders[order["reference"].casefold()] = order
        return order

    def _authorised(self, request: RecordedRequest) -> bool:
        if self.auth is None:
            return True
        scheme, *values = self.auth
        if scheme == "bearer":
            return request.bearer() == values[0]
        if scheme == "basic":
            return request.basic_auth() == tuple(values)
        return request.headers.get(values[0].lower()) == values[1]

    def answer(self, request: RecordedRequest) -> Answer:
        if not self._authorised(request):
            return 401, {"WWW-Authenticate": "Bearer"}, {"error": {"code": "UNAUTHENTICATED"}}
        if request.method == "GET" and request.path.startswith(ORDER_PATH):
            order = self.orders.get(unquote(request.path.removeprefix(ORDER_PATH)).casefold())
            if order is None:
                return self.not_found_status, {}, {"error": {"code": "NOT_FOUND"}}
            return 200, {}, {"data": {"order": order}}
        if request.method == "POST" and request.path == SEARCH_PATH:
            wanted = str(((request.json() or {}).get("query") or {}).get("reference")).casefold()
            hits = [self.orders[wanted]] if wanted in self.orders else []
            return 200, {}, {"hits": hits, "total": len(hits)}
        return 404, {}, {"error": {"code": "NO_ROUTE"}}


# Named explicitly so a test module can import it under another name (no shadowing, ruff F811).
@pytest.fixture(name="http_api_server")
def http_api_server() -> Iterator[FakeOrderApi]:
    with FakeOrderApi() as server:
        yield server
