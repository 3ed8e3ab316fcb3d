"""The BevCo distributor API as `tracking/clients/distributor.py` documents it.

- `POST /api/v1/auth/login` `{"username", "password"}` -> `{"token", "expiresIn"}`; 401 otherwise.
- `GET /api/v1/orders/<n>` with `X-Api-Key` or a bearer token from the login -> the order;
  404 `{"error": "order_not_found"}`; 401 `{"error": "unauthorized"}`.

`expire_tokens()` makes every login token issued so far answer 401, as after its expiry.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from tests.fakes.commerce.json_server import Answer, FakeJsonApi, RecordedRequest

ORDERS_PATH = "/api/v1/orders/"
LOGIN_PATH = "/api/v1/auth/login"


def distributor_order(
    number: str,
    *,
    status: str = "Afsendt",
    email: str = "kunde@example.com",
    zip_code: str = "8000",
    consignments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "orderNo": number,
        "orderStatus": status,
        "orderDate": "2025-03-14T09:30:00+01:00",
        "customer": {"name": "Kim Kunde", "email": email, "zip": zip_code, "phone": "+4512345678"},
        "lines": [
            {"productName": "Barolo DOCG 2019", "qty": 6, "itemNo": "BAR-19"},
            {"productName": "Champagne Brut", "qty": "2", "itemNo": "CH-BRUT"},
        ],
        "consignments": consignments if consignments is not None else [],
    }


class FakeDistributor(FakeJsonApi):
    name = "fake-distributor"

    def __init__(self) -> None:
        super().__init__()
        self.api_key = f"bevco-key-{secrets.token_hex(12)}"
        self.username = f"chatbot-{secrets.token_hex(4)}"
        self.password = f"bevco-pass-{secrets.token_hex(12)}"
        self.token_lifetime = 3600
        self.orders: dict[str, dict[str, Any]] = {}
        self._tokens: set[str] = set()

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        self.orders[order["orderNo"]] = order
        return order

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def login_requests(self) -> list[RecordedRequest]:
        return self.requests_to(LOGIN_PATH)

    def order_requests(self) -> list[RecordedRequest]:
        return self.requests_to(ORDERS_PATH)

    def answer(self, request: RecordedRequest) -> Answer:
        if request.method == "POST" and request.path == LOGIN_PATH:
            body = request.json() or {}
            if (body.get("username"), body.get("password")) != (self.username, self.password):
                return 401, {}, {"error": "invalid_credentials", "message": "Wrong username or password."}
            token = secrets.token_urlsafe(24)
            with self._lock:
                self._tokens.add(token)
            return 200, {}, {"token": token, "expiresIn": self.token_lifetime}
        with self._lock:
            bearer_ok = request.bearer() in self._tokens
        if not (bearer_ok or request.headers.get("x-api-key") == self.api_key):
            return 401, {}, {"error": "unauthorized", "message": "Missing or invalid API key or token."}
        if request.method == "GET" and request.path.startswith(ORDERS_PATH):
            order = self.orders.get(unquote(request.path.removeprefix(ORDERS_PATH)))
            if order is None:
                return 404, {}, {"error": "order_not_found", "message": "No order with that number."}
            return 200, {}, order
        return 404, {}, {"error": "not_found"}


# Named explicitly so a test module can import it under another name (no shadowing, ruff F811).
@pytest.fixture(name="distributor_server")
def distributor_server() -> Iterator[FakeDistributor]:
    with FakeDistributor() as server:
        yield server
