"""Magento 2 orders through the REST API.

`GET /rest/<store>/V1/orders` with `searchCriteria` on `increment_id` (the number customers see),
then `GET /rest/<store>/V1/shipments` on the order's `entity_id` for the tracks. Requests are
signed per integration either with OAuth 1.0a HMAC-SHA256 (an integration's consumer key and
secret plus access token and secret; Magento's default for integrations) or with a bearer token.
"""

from collections.abc import Generator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from oauthlib import oauth1

from tracking.carriers import tracking_url
from tracking.clients.base import OrderClientError
from tracking.clients.config import (
    checked_credentials,
    http_options,
    integration_credentials,
    integration_options,
    missing_credentials,
    order_number_normalise,
    refuse_invalid,
    safe_url,
    url_errors,
)
from tracking.clients.http import CommerceHttp
from tracking.orders import LineItem, Order, OrderStatus, Shipment

AUTH_MODES = ("oauth1", "bearer")
OAUTH1_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
_FILTER = "searchCriteria[filterGroups][0][filters][0]"

# Magento's order statuses (and states, for shops with custom statuses) to ours. "processing"
# with a shipment means the parcel has left; Magento has no notion of delivery.
STATUS_MAP = {
    "pending": OrderStatus.RECEIVED,
    "new": OrderStatus.RECEIVED,
    "pending_payment": OrderStatus.RECEIVED,
    "payment_review": OrderStatus.RECEIVED,
    "processing": OrderStatus.RECEIVED,
    "holded": OrderStatus.RECEIVED,
    "complete": OrderStatus.SHIPPED,
    "canceled": OrderStatus.CANCELLED,
    "closed": OrderStatus.CANCELLED,
}


class OAuth1HmacSha256(httpx.Auth):
    """Signs every request, each retry anew, with OAuth 1.0a HMAC-SHA256 in the Authorization header."""

    def __init__(
        self, *, consumer_key: str, consumer_secret: str, access_token: str, access_token_secret: str
    ) -> None:
        self._signer = oauth1.Client(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=access_token,
            resource_owner_secret=access_token_secret,
            signature_method=oauth1.SIGNATURE_HMAC_SHA256,
            signature_type=oauth1.SIGNATURE_TYPE_AUTH_HEADER,
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # The signature covers the exact URL sent, query parameters included, with a fresh
        # nonce and timestamp each time.
        _, headers, _ = self._signer.sign(str(request.url), http_method=request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <token>` (an admin or integration token used as a bearer token)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class Magento2Client:
    """One Magento 2 store view's orders, read through the REST API."""

    system = "Magento 2"
    credential_keys: ClassVar[tuple[str, ...]] = (*OAUTH1_KEYS, "bearer_token")
    option_keys: ClassVar[dict[str, str]] = {
        "auth_mode": '"oauth1" (default: consumer key and secret, access token and secret) or '
        '"bearer" (bearer_token)',
    }

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth,
        store_code: str = "default",
        carrier_tracking_urls: Mapping[str, str] | None = None,
        **http_kwargs: Any,
    ) -> None:
        self.base_url = base_url
        self.store_code = store_code or "default"
        self.carrier_tracking_urls = dict(carrier_tracking_urls or {})
        self.http = CommerceHttp(
            base_url=base_url,
            system=self.system,
            provider="magento2",
            auth=auth,
            headers={"Accept": "application/json"},
            **http_kwargs,
        )

    @classmethod
    def from_integration(cls, integration: Any, **overrides: Any) -> "Magento2Client":
        """A client for a CommerceIntegration of kind magento2; `overrides` tune the HTTP policy.

        Raises a permanent OrderClientError when `validate` finds the settings unusable.
        """
        refuse_invalid(cls.system, cls.validate(integration))
        credentials = integration_credentials(integration)
        if integration_options(integration).get("auth_mode") == "bearer":
            auth: httpx.Auth = BearerAuth(credentials.get("bearer_token", ""))
        else:
            auth = OAuth1HmacSha256(**{key: credentials.get(key, "") for key in OAUTH1_KEYS})
        return cls(
            base_url=integration.base_url,
            auth=auth,
            store_code=integration.store_code or "default",
            carrier_tracking_urls=integration.carrier_tracking_urls or {},
            **http_options(**overrides),
        )

    @classmethod
    def validate(cls, integration: Any) -> dict[str, list[str]]:
        """Field errors of the integration's Magento 2 settings (empty when usable)."""
        errors = url_errors(integration.base_url)
        credentials = checked_credentials(integration, errors)
        mode = integration_options(integration).get("auth_mode", "oauth1")
        if mode not in AUTH_MODES:
            errors["options"] = [f'auth_mode must be "oauth1" or "bearer", not {mode!r}.']
        elif mode == "bearer":
            errors |= missing_credentials(credentials, "bearer_token", reason='with auth_mode "bearer"')
        else:
            errors |= missing_credentials(
                credentials, *OAUTH1_KEYS, reason="for OAuth 1.0a (auth_mode oauth1)"
            )
        if integration.store_code and not integration.store_code.replace("_", "").isalnum():
            errors["store_code"] = ["A Magento store code has only letters, digits and underscores."]
        return errors

    # --- the OrderClient contract ----------------------------------------------------------
    def fetch_order(self, number: str) -> Order | None:
        """The order whose increment_id is exactly `number` (case and a leading "#" aside), or None."""
        wanted = order_number_normalise(number)
        if wanted is None:
            return None
        items = self._search("orders", "increment_id", wanted)
        order = next(
            (o for o in items if order_number_normalise(str(o.get("increment_id") or "")) == wanted), None
        )
        if order is None:
            return None
        shipments = self._search("shipments", "order_id", str(order.get("entity_id") or ""))
        return self._order(order, shipments)

    def check_connection(self) -> str:
        """Lists one order of the store view: proves the URL, store code, signature and ACL."""
        response = self._get(f"{self._prefix}/V1/orders", [("searchCriteria[pageSize]", "1")])
        if response.status_code == 404:
            raise self._not_found_error()
        return f"Magento 2 store view {self.store_code!r} reached; orders are readable."

    def close(self) -> None:
        self.http.close()

    # --- requests ----------------------------------------------------------------------------
    @property
    def _prefix(self) -> str:
        return f"/rest/{self.store_code}"

    def _get(self, path: str, params: list[tuple[str, str]]) -> httpx.Response:
        return self.http.request("GET", path, params=params)

    def _search(self, resource: str, field: str, value: str) -> list[dict[str, Any]]:
        params = [
            (f"{_FILTER}[field]", field),
            (f"{_FILTER}[value]", value),
            (f"{_FILTER}[conditionType]", "eq"),
            ("searchCriteria[pageSize]", "20"),
        ]
        response = self._get(f"{self._prefix}/V1/{resource}", params)
        if response.status_code == 404:
            # A search never 404s for want of matches; the route itself is missing.
            raise self._not_found_error()
        try:
            body = response.json()
        except ValueError:
            body = None
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise OrderClientError("order_bad_response", f"Magento 2 answered V1/{resource} without items.")
        return [item for item in items if isinstance(item, dict)]

    def _not_found_error(self) -> OrderClientError:
        """Tells a wrong store code from a wrong base URL: only the latter breaks the default store."""
        url = safe_url(self.base_url)
        if self.store_code != "default":
            try:
                probe = self._get("/rest/V1/orders", [("searchCriteria[pageSize]", "1")])
            except OrderClientError:
                probe = None
            if probe is not None and probe.status_code < 400:
                return OrderClientError(
                    "order_misconfigured",
                    f"store code {self.store_code!r} does not exist in the Magento 2 shop at {url}.",
                    permanent=True,
                )
        return OrderClientError(
            "order_misconfigured",
            f"no Magento 2 REST API for store code {self.store_code!r} at {url}/rest (HTTP 404); "
            "check the base URL and the store code.",
            permanent=True,
        )

    # --- normalising ----------------------------------------------------------------------
    def _order(self, order: dict[str, Any], shipments: list[dict[str, Any]]) -> Order:
        tracks = []
        for shipment in shipments:
            for track in shipment.get("tracks") or []:
                number = str(track.get("track_number") or "").strip()
                if not number:
                    continue
                code = str(track.get("carrier_code") or "")
                carrier = str(track.get("title") or "") or code
                url = tracking_url(carrier, number, self.carrier_tracking_urls) or tracking_url(
                    code, number, self.carrier_tracking_urls
                )
                tracks.append(Shipment(carrier=carrier, tracking_number=number, tracking_url=url))
        items = tuple(
            LineItem(
                name=str(item.get("name") or ""),
                quantity=_quantity(item.get("qty_ordered")),
                sku=str(item.get("sku") or ""),
            )
            for item in order.get("items") or []
            # Configurable and bundle children repeat their parent line.
            if isinstance(item, dict) and not item.get("parent_item_id")
        )
        raw = str(order.get("status") or order.get("state") or "")
        return Order(
            number=str(order.get("increment_id") or ""),
            status=magento_status(order, shipped=bool(shipments)),
            raw_status=raw,
            placed_at=_datetime(order.get("created_at")),
            items=items,
            shipments=tuple(tracks),
            customer_email=str(order.get("customer_email") or ""),
            postcode=_postcode(order),
        )


def magento_status(order: Mapping[str, Any], *, shipped: bool) -> OrderStatus:
    """Our status for a Magento order: by status, else by state (custom statuses), else unknown."""
    for value in (order.get("status"), order.get("state")):
        status = STATUS_MAP.get(str(value or "").lower())
        if status is None:
            continue
        if status is OrderStatus.RECEIVED and shipped and str(value).lower() == "processing":
            return OrderStatus.SHIPPED
        return status
    return OrderStatus.UNKNOWN


def _postcode(order: Mapping[str, Any]) -> str:
    billing = order.get("billing_address") or {}
    if billing.get("postcode"):
        return str(billing["postcode"])
    assignments = (order.get("extension_attributes") or {}).get("shipping_assignments") or []
    for assignment in assignments:
        address = ((assignment or {}).get("shipping") or {}).get("address") or {}
        if address.get("postcode"):
            return str(address["postcode"])
    return ""


def _quantity(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def _datetime(value: Any) -> datetime | None:
    # Magento stores and returns UTC as "YYYY-MM-DD HH:MM:SS".
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) if value else None
    except ValueError:
        return None
