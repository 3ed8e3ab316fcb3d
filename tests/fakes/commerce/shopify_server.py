"""A Shopify-shaped server: the GraphQL Admin API and the client-credentials token endpoint.

- `POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`: the `orders` query
  (searched by `name:` terms in `variables.query`, matching by prefix like Shopify's search, so
  "NV-1002" also finds "NV-10023") and `shop { name }`. Answers carry `extensions.cost`. A bad
  token gets 401 `{"errors": "[API] Invalid API key or access token ..."}`.
- `POST /admin/oauth/access_token` (form: grant_type=client_credentials, client_id, client_secret)
  -> `{"access_token", "scope", "expires_in"}`; wrong client -> 400 `invalid_client`.

The server answers only the order fields the query names, as GraphQL does, so a client that
forgets to ask for a field finds it missing. Test controls: `add_order`, `throttle_next` (a
`THROTTLED` 200 answer with a chosen `throttleStatus`), `expire_tokens`, `deny_orders_scope`,
plus `fail_next` and `delay_next` from FakeCommerceServer.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.commerce.local_server import FakeCommerceServer, RecordedRequest, Reply

_GRAPHQL_PATH = re.compile(r"^/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json$")
_NAME_TERM = re.compile(r"""name:(?:"([^"]*)"|'([^']*)'|(\S+))""")
_STRUCTURAL = {"nodes"}
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def shopify_order(
    name: str,
    *,
    financial: str = "PAID",
    fulfillment: str = "UNFULFILLED",
    cancelled_at: str | None = None,
    created_at: str = "2025-03-14T08:30:00Z",
    email: str = "kunde@example.com",
    zip_code: str = "8000",
    line_items: list[dict[str, Any]] | None = None,
    fulfillments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An Order node with the documented field names (only those a lookup reads, plus an id)."""
    return {
        "id": f"gid://shopify/Order/{secrets.randbelow(10**12)}",
        "name": name,
        "createdAt": created_at,
        "cancelledAt": cancelled_at,
        "displayFinancialStatus": financial,
        "displayFulfillmentStatus": fulfillment,
        "email": email,
        "shippingAddress": {"zip": zip_code},
        "lineItems": {
            "nodes": line_items
            if line_items is not None
            else [{"name": "Barolo DOCG 2019", "quantity": 2, "sku": "BAR-2019"}]
        },
        "fulfillments": fulfillments or [],
    }


def shopify_fulfillment(
    *tracking: tuple[str, str, str | None],
    status: str = "SUCCESS",
    display_status: str = "IN_TRANSIT",
    delivered_at: str | None = None,
) -> dict[str, Any]:
    """A Fulfillment with trackingInfo entries given as (company, number, url or None)."""
    return {
        "status": status,
        "displayStatus": display_status,
        "deliveredAt": delivered_at,
        "trackingInfo": [{"company": c, "number": n, "url": u} for c, n, u in tracking],
    }


class FakeShopifyServer(FakeCommerceServer):
    """One shop with its orders, its valid tokens and its bucket of query points."""

    def __init__(self, *, shop_name: str = "Nordic Vin") -> None:
        super().__init__()
        self.shop_name = shop_name
        # Fresh values per server keep the clients' token cache apart between tests.
        self.access_token = f"shpat_{secrets.token_hex(16)}"
        self.client_id = secrets.token_hex(16)
        self.client_secret = f"shpss_{secrets.token_hex(16)}"
        self.token_lifetime = 86399
        self.orders: list[dict[str, Any]] = []
        self.orders_scope = True
        self._tokens = {self.access_token}
        self._throttles: list[dict[str, float]] = []

    # --- test controls ---------------------------------------------------------------------
    def add_order(self, name: str, **fields: Any) -> dict[str, Any]:
        order = shopify_order(name, **fields)
        self.orders.append(order)
        return order

    def throttle_next(
        self, count: int = 1, *, requested: float = 12, available: float = 2, restore_rate: float = 50
    ) -> None:
        """Answer the next GraphQL queries with THROTTLED and this bucket state."""
        for _ in range(count):
            self._throttles.append(
                {"requested": requested, "available": available, "restore_rate": restore_rate}
            )

    def expire_tokens(self) -> None:
        """Every token minted so far stops working (the stored access token keeps working)."""
        with self._lock:
            self._tokens = {self.access_token}

    def revoke_access_token(self) -> None:
        with self._lock:
            self._tokens.discard(self.access_token)

    def graphql_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if _GRAPHQL_PATH.match(r.path)]

    def token_requests(self) -> list[RecordedRequest]:
        return self.requests_to("/admin/oauth/access_token")

    # --- the API ---------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        if request.method == "POST" and request.path == "/admin/oauth/access_token":
            return self._token(request)
        if request.method == "POST" and _GRAPHQL_PATH.match(request.path):
            with self._lock:
                known = request.headers.get("x-shopify-access-token") in self._tokens
            if not known:
                return Reply(401, {"errors": INVALID_TOKEN})
            return self._graphql(request.json() or {})
        return Reply(404, {"errors": "Not Found"})

    def _token(self, request: RecordedRequest) -> Reply:
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return Reply(
                400, {"error": "invalid_client", "error_description": "Client authentication failed."}
            )
        token = f"shpat_{secrets.token_hex(16)}"
        with self._lock:
            self._tokens.add(token)
        return Reply(200, {"access_token": token, "scope": "read_orders", "expires_in": self.token_lifetime})

    def _graphql(self, payload: dict[str, Any]) -> Reply:
        query = str(payload.get("query") or "")
        variables = payload.get("variables") or {}
        with self._lock:
            throttle = self._throttles.pop(0) if self._throttles else None
        if throttle is not None:
            return Reply(200, _throttled(throttle))
        if "orders" in query and not self.orders_scope:
            return Reply(200, _access_denied())
        data: dict[str, Any] = {}
        if re.search(r"\bshop\s*\{", query):
            data["shop"] = {"name": self.shop_name}
        if re.search(r"\borders\s*\(", query):
            search = str(variables.get("query") or "") if "$query" in query else ""
            found = [o for o in self.orders if _matches(o["name"], search)]
            data["orders"] = {"nodes": [_project(order, query) for order in found[:5]]}
        return Reply(200, {"data": data, "extensions": _cost(requested=12, actual=4)})


def _matches(name: str, search: str) -> bool:
    """Shopify-like: a `name:` term matches names that start with it, "#" and case aside."""
    if not search:
        return True
    wanted = [next(g for g in m.groups() if g is not None) for m in _NAME_TERM.finditer(search)]
    have = name.upper().lstrip("#")
    return any(have.startswith(term.upper().lstrip("#")) for term in wanted if term.lstrip("#"))


def _project(value: Any, query: str) -> Any:
    """Only the fields the query names, like a GraphQL server (field names matched as words)."""
    if isinstance(value, list):
        return [_project(item, query) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: _project(item, query)
        for key, item in value.items()
        if key in _STRUCTURAL or re.search(rf"\b{re.escape(key)}\b", query)
    }


def _cost(*, requested: float, actual: float | None, available: float = 1990.0, rate: float = 100.0) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": available,
                "restoreRate": rate,
            },
        }
    }


def _throttled(state: dict[str, float]) -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": _cost(
            requested=state["requested"],
            actual=None,
            available=state["available"],
            rate=state["restore_rate"],
        ),
    }


def _access_denied() -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": "Access denied for orders field. Required access: `read_orders` access scope.",
                "extensions": {
                    "code": "ACCESS_DENIED",
                    "documentation": "https://shopify.dev/api/usage/access-scopes",
                },
                "path": ["orders"],
            }
        ],
        "data": None,
    }


@pytest.fixture
def shopify_server() -> Iterator[FakeShopifyServer]:
    """A started fake Shopify shop, stopped after the test."""
    server = FakeShopifyServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
