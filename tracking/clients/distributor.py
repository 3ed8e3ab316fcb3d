"""The distributor JSON API of the old platform ("BevCo"): one order by its number.

The API, under the integration's `base_url` (a path prefix is kept):

| request | answer |
|---|---|
| `GET /api/v1/orders/{order_number}` (URL-encoded) | 200 the order (below) |
| | 404 `{"error": "order_not_found"}`: no such order |
| | 401: missing, wrong or expired key or token |
| | 429 / 503, maybe with `Retry-After`: busy |
| `POST /api/v1/auth/login` `{"username", "password"}` | 200 `{"token": "...", "expiresIn": 3600}` (s) |
| | 401: wrong user name or password |

Requests authenticate with `X-Api-Key: <api_key>` (`auth_mode` "api_key", the default) or
`Authorization: Bearer <token>` from the login (`auth_mode` "login"; the token is cached until
shortly before `expiresIn` and fetched again once when the API answers 401).

The order::

    {"orderNo": "100234", "orderStatus": "Afsendt", "orderDate": "2025-03-14T09:30:00+01:00",
     "customer": {"email": "...", "zip": "8000"},
     "lines": [{"productName": "Barolo 2019", "qty": 6, "itemNo": "BAR-19"}],
     "consignments": [{"carrierName": "GLS", "trackingNo": "123", "trackingLink": "https://..."}]}

`FIELD_MAPPING` says where each `Order` field comes from; `trackingLink` may be missing, then the
link is built from the carrier's URL template. `STATUS_WORDS` maps their Danish and English
status words (case-insensitive); options `status_map` adds or overrides words.

Integration fields: `base_url`; options `auth_mode` ("api_key" or "login"), `status_map`,
`check_order_number` (a real order number for `check_connection`); credentials `api_key`, or
`username` and `password`.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from tracking.clients.base import OrderClientError
from tracking.clients.config import checked_credentials, http_options, integration_options, refuse_invalid
from tracking.clients.http import CommerceHttp
from tracking.clients.mapping import OrderMapping, status_map_errors
from tracking.clients.support import (
    CachedToken,
    FieldErrors,
    LookupBudget,
    add_error,
    as_text,
    json_object,
    require_credentials,
    token_lifetime,
    tracking_template_errors,
    url_problems,
    usable_order_number,
)
from tracking.orders import Order

SYSTEM = "The distributor API"
AUTH_MODES = ("api_key", "login")
PROBE_NUMBER = "connection-check-0"

# Their field (a JMESPath into the order JSON) for each Order field; see tracking.clients.mapping.
FIELD_MAPPING = {
    "number": "orderNo",
    "status": "orderStatus",
    "placed_at": "orderDate",
    "email": "customer.email",
    "postcode": "customer.zip",
    "items": "lines",
    "item_name": "productName",
    "item_quantity": "qty",
    "item_sku": "itemNo",
    "shipments": "consignments",
    "shipment_carrier": "carrierName",
    "shipment_tracking_number": "trackingNo",
    "shipment_tracking_url": "trackingLink",
}

# Their status words, Danish as the warehouse writes them and the English of the newer screens.
STATUS_WORDS = {
    "Modtaget": "received",
    "Received": "received",
    "Bekræftet": "received",
    "Confirmed": "received",
    "Under behandling": "received",
    "Processing": "received",
    "Restordre": "received",
    "Backorder": "received",
    "Pakket": "packed",
    "Packed": "packed",
    "Klar til afsendelse": "packed",
    "Ready to ship": "packed",
    "Afsendt": "shipped",
    "Shipped": "shipped",
    "Delvist afsendt": "shipped",
    "Partially shipped": "shipped",
    "Leveret": "delivered",
    "Delivered": "delivered",
    "Annulleret": "cancelled",
    "Cancelled": "cancelled",
    "Canceled": "cancelled",
}


class DistributorClient:
    """Looks orders up in the distributor API with an API key or a login token."""

    credential_keys = ("api_key", "username", "password")
    option_keys = {
        "auth_mode": "api_key (credential api_key, sent as X-Api-Key) or login (username, password).",
        "status_map": 'Extra status words, e.g. {"Hos vinbonden": "packed"}.',
        "check_order_number": "A real order number that the connection check looks up.",
    }

    def __init__(
        self,
        *,
        base_url: str,
        auth_mode: str = "api_key",
        api_key: str = "",
        username: str = "",
        password: str = "",
        status_map: Mapping[str, str] | None = None,
        tracking_templates: Mapping[str, str] | None = None,
        check_order_number: str = "",
        **http: Any,
    ) -> None:
        self.auth_mode = auth_mode
        self.username = username
        self.password = password
        self.check_order_number = check_order_number
        headers = {"Accept": "application/json"}
        if auth_mode == "api_key":
            headers["X-Api-Key"] = api_key
        settings = http_options(**http)
        self.budget = LookupBudget(settings["budget"], SYSTEM)
        self.http = CommerceHttp(
            base_url=base_url, system=SYSTEM, provider="distributor", headers=headers, **settings
        )
        self.mapping = OrderMapping(
            FIELD_MAPPING, {**STATUS_WORDS, **(status_map or {})}, tracking_templates, system=SYSTEM
        )
        self.token = CachedToken("distributor", base_url.rstrip("/"), username, obtain=self._login)

    @classmethod
    def from_integration(cls, integration: Any, **overrides: Any) -> "DistributorClient":
        """A client for the integration; raises `order_misconfigured` if it is incomplete."""
        refuse_invalid(SYSTEM, cls.validate(integration))
        options = integration_options(integration)
        credentials = checked_credentials(integration, {})
        return cls(
            base_url=integration.base_url,
            auth_mode=options.get("auth_mode") or "api_key",
            api_key=as_text(credentials.get("api_key")),
            username=as_text(credentials.get("username")),
            password=as_text(credentials.get("password")),
            status_map=options.get("status_map") or {},
            tracking_templates=integration.carrier_tracking_urls or {},
            check_order_number=as_text(options.get("check_order_number")),
            **overrides,
        )

    @classmethod
    def validate(cls, integration: Any) -> FieldErrors:
        """Field errors of the integration's distributor settings; {} when it can be used."""
        errors: FieldErrors = {}
        options = integration_options(integration)
        url_problems(errors, integration.base_url, field="base_url")
        auth_mode = options.get("auth_mode") or "api_key"
        credentials = checked_credentials(integration, errors)
        if auth_mode == "api_key":
            require_credentials(errors, credentials, ("api_key",))
        elif auth_mode == "login":
            require_credentials(errors, credentials, ("username", "password"))
        else:
            add_error(errors, "options", f"auth_mode: use one of {', '.join(AUTH_MODES)}.")
        for problem in status_map_errors(options.get("status_map")):
            add_error(errors, "options", problem)
        for problem in tracking_template_errors(integration.carrier_tracking_urls):
            add_error(errors, "carrier_tracking_urls", problem)
        return errors

    def _login(self) -> tuple[str, float]:
        # A login creates nothing the shopper could see twice, so it is retried like a read.
        response = self.budget.grant(self.http).request(
            "POST",
            "/api/v1/auth/login",
            idempotent=True,
            json={"username": self.username, "password": self.password},
        )
        if response.status_code == 404:
            raise OrderClientError(
                "order_misconfigured",
                f"{SYSTEM} has no login endpoint; check the URL and auth mode.",
                permanent=True,
            )
        body = json_object(response, SYSTEM)
        token = as_text(body.get("token"))
        if not token:
            raise OrderClientError("order_bad_response", f"{SYSTEM} answered the login without a token.")
        return token, token_lifetime(body.get("expiresIn"))

    def _get(self, path: str) -> httpx.Response:
        """One lookup (login, order, order again after a refused token) inside one budget."""
        self.budget.start()
        if self.auth_mode != "login":
            return self.budget.grant(self.http).request("GET", path)
        return self.token.call(
            lambda token: self.budget.grant(self.http).request(
                "GET", path, headers={"Authorization": f"Bearer {token}"}
            )
        )

    def fetch_order(self, number: str) -> Order | None:
        """The order with this number, or None when the distributor has no such order."""
        number = usable_order_number(number)
        if number is None:
            return None
        response = self._get(f"/api/v1/orders/{quote(number, safe='')}")
        if response.status_code == 404:
            return None
        return self.mapping.order(json_object(response, SYSTEM), number)

    def check_connection(self) -> str:
        """Logs in if needed and looks up `check_order_number` (or a number that should not exist)."""
        number = self.check_order_number or PROBE_NUMBER
        response = self._get(f"/api/v1/orders/{quote(number, safe='')}")
        if response.status_code == 404:
            return f"{SYSTEM} reached and the credentials were accepted (order {number!r} not found)."
        order = self.mapping.order(json_object(response, SYSTEM), number)
        if order is None:
            return f"{SYSTEM} reached; it answered for order {number!r} with a different order."
        return f"{SYSTEM} reached; order {number!r} read, status {order.status.value}."

    def close(self) -> None:
        self.http.close()
