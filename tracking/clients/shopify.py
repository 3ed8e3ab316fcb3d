"""Shopify orders through the GraphQL Admin API.

`POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`. The token is either stored
(`access_token`, a custom app's Admin API token) or minted with the client-credentials grant from
`client_id` + `client_secret` and cached until shortly before it expires. Throttling comes two
ways: HTTP 429 with `Retry-After`, and `THROTTLED` in a 200 body, where the wait follows from
`extensions.cost.throttleStatus` (points still missing divided by the restore rate).
"""

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from tracking.carriers import tracking_url
from tracking.clients.base import OrderClientError
from tracking.clients.config import (
    checked_credentials,
    http_options,
    integration_credentials,
    missing_credentials,
    order_number_normalise,
    refuse_invalid,
    safe_url,
    token_cache_get,
    token_cache_set,
    url_errors,
)
from tracking.clients.http import CommerceHttp
from tracking.orders import LineItem, Order, OrderStatus, Shipment

# Pinned so a Shopify release never changes the fields we read; staff can override per integration.
API_VERSION = "2025-07"
TOKEN_PATH = "/admin/oauth/access_token"  # noqa: S105  (a URL path, not a secret)
# Shopify's name search also matches longer names (1002 finds 10023), so the query asks for a
# few orders and the client picks the exact one.
ORDERS_QUERY = """
query OrdersByName($query: String!) {
  orders(first: 5, query: $query) {
    nodes {
      name
      createdAt
      cancelledAt
      displayFinancialStatus
      displayFulfillmentStatus
      email
      shippingAddress { zip }
      lineItems(first: 50) { nodes { name quantity sku } }
      fulfillments(first: 10) {
        status
        displayStatus
        deliveredAt
        trackingInfo(first: 10) { company number url }
      }
    }
  }
}
"""

CHECK_QUERY = "query ConnectionCheck { shop { name } orders(first: 1) { nodes { id } } }"

_API_VERSION = re.compile(r"\d{4}-(0[1-9]|1[0-2])|unstable")
_SHIPPED_DISPLAY = frozenset({"IN_TRANSIT", "OUT_FOR_DELIVERY", "ATTEMPTED_DELIVERY", "FULFILLED"})
_PACKED_DISPLAY = frozenset({"LABEL_PRINTED", "LABEL_PURCHASED", "CONFIRMED", "SUBMITTED"})
_TRANSIENT_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})
_PAYABLE = frozenset({"PAID", "PARTIALLY_PAID", "AUTHORIZED", "PENDING", "PARTIALLY_REFUNDED"})


class ShopifyClient:
    """One shop's orders, read through the GraphQL Admin API."""

    system = "Shopify"
    credential_keys: ClassVar[tuple[str, ...]] = ("access_token", "client_id", "client_secret")
    option_keys: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str = "",
        client_id: str = "",
        client_secret: str = "",
        api_version: str = API_VERSION,
        carrier_tracking_urls: Mapping[str, str] | None = None,
        **http_kwargs: Any,
    ) -> None:
        self.base_url = base_url
        self.api_version = api_version or API_VERSION
        self.carrier_tracking_urls = dict(carrier_tracking_urls or {})
        self._access_token = access_token
        self._client_id = client_id
        self._client_secret = client_secret
        self.http = CommerceHttp(base_url=base_url, system=self.system, provider="shopify", **http_kwargs)

    @classmethod
    def from_integration(cls, integration: Any, **overrides: Any) -> "ShopifyClient":
        """A client for a CommerceIntegration of kind shopify; `overrides` tune the HTTP policy.

        Raises a permanent OrderClientError when `validate` finds the settings unusable.
        """
        refuse_invalid(cls.system, cls.validate(integration))
        credentials = integration_credentials(integration)
        return cls(
            base_url=integration.base_url,
            access_token=credentials.get("access_token", ""),
            client_id=credentials.get("client_id", ""),
            client_secret=credentials.get("client_secret", ""),
            api_version=integration.api_version or API_VERSION,
            carrier_tracking_urls=integration.carrier_tracking_urls or {},
            **http_options(**overrides),
        )

    @classmethod
    def validate(cls, integration: Any) -> dict[str, list[str]]:
        """Field errors of the integration's Shopify settings (empty when usable)."""
        errors = url_errors(integration.base_url)
        credentials = checked_credentials(integration, errors)
        if not credentials.get("access_token"):
            if credentials.get("client_id") or credentials.get("client_secret"):
                reason = "for the client-credentials grant (or set an access token instead)"
                errors |= missing_credentials(credentials, "client_id", "client_secret", reason=reason)
            else:
                errors["access_token"] = ["Set an Admin API access token, or a client ID and secret."]
        version = integration.api_version or API_VERSION
        if not _API_VERSION.fullmatch(version):
            errors["api_version"] = ["Use a Shopify API version like 2025-07 (year-month)."]
        return errors

    # --- the OrderClient contract ----------------------------------------------------------
    def fetch_order(self, number: str) -> Order | None:
        """The order named exactly `number` (case, spaces and a leading "#" aside), or None."""
        wanted = order_number_normalise(number)
        if wanted is None:
            return None
        # Shops name orders "#1001" by default; customers type "1001" or "#1001".
        search = f'name:"{wanted}" OR name:"#{wanted}"'
        data = self._graphql(ORDERS_QUERY, {"query": search})
        nodes = ((data.get("orders") or {}).get("nodes")) or []
        for node in nodes:
            if order_number_normalise(str(node.get("name") or "")) == wanted:
                return self._order(node)
        return None

    def check_connection(self) -> str:
        """Reads the shop's name and one order id: proves the URL, version, token and scope."""
        data = self._graphql(CHECK_QUERY, {})
        shop = (data.get("shop") or {}).get("name") or "the shop"
        return f"Shopify store {shop!r} reached with API {self.api_version}; orders are readable."

    def close(self) -> None:
        self.http.close()

    # --- requests ----------------------------------------------------------------------------
    @property
    def _graphql_path(self) -> str:
        return f"/admin/api/{self.api_version}/graphql.json"

    def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        token, cached = self._token()
        try:
            response = self._post_graphql(token, query, variables)
        except OrderClientError as exc:
            if exc.code != "order_auth_failed" or not cached:
                raise
            # A cached minted token can expire or be revoked before its time: mint one, once.
            token, _ = self._token(fresh=True)
            response = self._post_graphql(token, query, variables)
        if response.status_code == 404:
            raise OrderClientError(
                "order_misconfigured",
                f"Shopify has no Admin API at {safe_url(self.base_url)}{self._graphql_path} (HTTP 404); "
                "check the shop URL (https://<shop>.myshopify.com) and the API version.",
                permanent=True,
            )
        body = _json(response)
        errors = body.get("errors")
        if errors:
            raise _query_error(errors)
        data = body.get("data")
        if not isinstance(data, dict):
            raise OrderClientError("order_bad_response", "Shopify answered without data.")
        return data

    def _post_graphql(self, token: str, query: str, variables: dict[str, Any]) -> httpx.Response:
        return self.http.request(
            "POST",
            self._graphql_path,
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": token},
            check=self._raise_if_transient,
        )

    def _raise_if_transient(self, response: httpx.Response) -> None:
        """Inside the retry loop: a 200 answer that reports throttling or a passing failure."""
        try:
            body = response.json()
        except ValueError:
            return
        errors = body.get("errors") if isinstance(body, dict) else None
        codes = {_error_code(error) for error in errors} if isinstance(errors, list) else set()
        if codes & _TRANSIENT_CODES:
            raise self.http.transient("order_unavailable", "Shopify failed to answer the order query.")
        if "THROTTLED" not in codes:
            return
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        requested = _number(cost.get("requestedQueryCost"))
        maximum = _number(status.get("maximumAvailable"))
        if requested is not None and maximum is not None and requested > maximum:
            # Waiting can never make this query affordable.
            raise OrderClientError(
                "order_misconfigured",
                f"The order query costs {requested:g} points, more than the shop's bucket of {maximum:g}.",
                permanent=True,
            )
        raise self.http.transient(
            "order_rate_limited", "Shopify throttled the order query (query cost).", _throttle_wait(cost)
        )

    def _token(self, *, fresh: bool = False) -> tuple[str, bool]:
        """The access token, and whether it came from the cache (so it may have expired)."""
        if self._access_token:
            return self._access_token, False
        key = self._token_cache_key()
        if not fresh:
            stored = token_cache_get(key)
            if stored:
                return stored, True
        token, lifetime = self._mint_token()
        token_cache_set(key, token, lifetime)
        return token, False

    def _mint_token(self) -> tuple[str, float | None]:
        try:
            response = self.http.request(
                "POST",
                TOKEN_PATH,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
                headers={"Accept": "application/json"},
            )
        except OrderClientError as exc:
            if not exc.permanent:
                raise
            raise OrderClientError(
                "order_auth_failed",
                f"Shopify refused the client ID and secret: {exc.message}",
                permanent=True,
            ) from None
        if response.status_code == 404:
            raise OrderClientError(
                "order_misconfigured",
                f"Shopify has no token endpoint at {safe_url(self.base_url)}{TOKEN_PATH} (HTTP 404); "
                "check the shop URL.",
                permanent=True,
            )
        body = _json(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise OrderClientError("order_bad_response", "Shopify's token answer had no access token.")
        return token, _number(body.get("expires_in"))

    def _token_cache_key(self) -> str:
        # Hashed: the key names no secret, and a new secret starts a new entry.
        material = "|".join((safe_url(self.base_url), self._client_id, self._client_secret))
        return f"tracking:shopify:token:{hashlib.sha256(material.encode()).hexdigest()[:40]}"

    # --- normalising ----------------------------------------------------------------------
    def _order(self, node: dict[str, Any]) -> Order:
        fulfillments = [f for f in node.get("fulfillments") or [] if isinstance(f, dict)]
        shipments = []
        for fulfillment in fulfillments:
            if str(fulfillment.get("status") or "").upper() in {"CANCELLED", "ERROR", "FAILURE"}:
                continue
            for info in fulfillment.get("trackingInfo") or []:
                carrier = str(info.get("company") or "")
                number = str(info.get("number") or "")
                if not number:
                    continue
                url = tracking_url(
                    carrier, number, self.carrier_tracking_urls, given=str(info.get("url") or "")
                )
                shipments.append(Shipment(carrier=carrier, tracking_number=number, tracking_url=url))
        items = tuple(
            LineItem(
                name=str(line.get("name") or ""),
                quantity=int(line.get("quantity") or 0),
                sku=line.get("sku") or "",
            )
            for line in ((node.get("lineItems") or {}).get("nodes") or [])
        )
        status, raw = shopify_status(node, fulfillments)
        return Order(
            number=str(node.get("name") or ""),
            status=status,
            raw_status=raw,
            placed_at=_datetime(node.get("createdAt")),
            items=items,
            shipments=tuple(shipments),
            customer_email=str(node.get("email") or ""),
            postcode=str((node.get("shippingAddress") or {}).get("zip") or ""),
        )


def shopify_status(node: Mapping[str, Any], fulfillments: list[dict[str, Any]]) -> tuple[OrderStatus, str]:
    """The normalised status and the raw one ("FULFILLMENT/FINANCIAL", "/CANCELLED" appended)."""
    fulfillment = str(node.get("displayFulfillmentStatus") or "").upper()
    financial = str(node.get("displayFinancialStatus") or "").upper()
    raw = "/".join(
        part for part in (fulfillment, financial, "CANCELLED" if node.get("cancelledAt") else "") if part
    )
    if node.get("cancelledAt"):
        return OrderStatus.CANCELLED, raw
    live = [
        f for f in fulfillments if str(f.get("status") or "").upper() not in {"CANCELLED", "ERROR", "FAILURE"}
    ]
    displays = {str(f.get("displayStatus") or "").upper() for f in live}
    delivered = [
        f for f in live if f.get("deliveredAt") or str(f.get("displayStatus") or "").upper() == "DELIVERED"
    ]
    if fulfillment == "FULFILLED" and live and len(delivered) == len(live):
        return OrderStatus.DELIVERED, raw
    if fulfillment in {"FULFILLED", "PARTIALLY_FULFILLED"} or displays & _SHIPPED_DISPLAY or delivered:
        return OrderStatus.SHIPPED, raw
    if fulfillment == "IN_PROGRESS" or displays & _PACKED_DISPLAY:
        return OrderStatus.PACKED, raw
    waiting = {"UNFULFILLED", "PENDING_FULFILLMENT", "OPEN", "SCHEDULED", "ON_HOLD", "REQUEST_DECLINED"}
    if fulfillment in waiting and (financial in _PAYABLE or not financial):
        return OrderStatus.RECEIVED, raw
    return OrderStatus.UNKNOWN, raw


def _query_error(errors: Any) -> OrderClientError:
    """One OrderClientError for GraphQL `errors` in an otherwise successful answer."""
    if not isinstance(errors, list):
        return OrderClientError("order_bad_response", "Shopify answered with an error.", permanent=True)
    codes = {_error_code(error) for error in errors}
    if "ACCESS_DENIED" in codes:
        return OrderClientError(
            "order_auth_failed",
            "Shopify denied access to orders; the app needs the read_orders access scope.",
            permanent=True,
        )
    if codes & _TRANSIENT_CODES:
        return OrderClientError("order_unavailable", "Shopify failed to answer the order query.")
    # Query errors name fields and types (e.g. a field missing from the pinned API version),
    # never the shopper's data, which travels in variables.
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    detail = str(first.get("message") or "unknown error")[:200]
    return OrderClientError(
        "order_bad_response", f"Shopify rejected the order query: {detail}", permanent=True
    )


def _error_code(error: Any) -> str:
    return str(((error or {}).get("extensions") or {}).get("code") or "") if isinstance(error, dict) else ""


def _throttle_wait(cost: Mapping[str, Any]) -> float | None:
    status = cost.get("throttleStatus") or {}
    requested = _number(cost.get("requestedQueryCost"))
    available = _number(status.get("currentlyAvailable"))
    rate = _number(status.get("restoreRate"))
    if requested is None or available is None or not rate:
        return None
    return max(0.0, (requested - available) / rate)


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.is_redirect:
        # Custom shop domains redirect; the Admin API answers only on the myshopify.com domain.
        raise OrderClientError(
            "order_misconfigured",
            f"Shopify redirected the request (HTTP {response.status_code}); use the shop's "
            "https://<shop>.myshopify.com address as the base URL.",
            permanent=True,
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise OrderClientError(
            "order_bad_response", f"Shopify answered HTTP {response.status_code} without JSON."
        )
    return body


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _datetime(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
