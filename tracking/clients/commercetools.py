"""commercetools (Composable Commerce HTTP API): orders by order number.

Auth is OAuth 2.0 client credentials: `POST https://auth.<region>.commercetools.com/oauth/token`
with HTTP basic auth (client id and secret) and `grant_type=client_credentials&scope=...`; the
answer's `access_token` lives `expires_in` seconds. The order is then
`GET https://api.<region>.commercetools.com/<projectKey>/orders/order-number=<orderNumber>`
(404 when there is no such order).

Integration fields: `project_key`, `region` (e.g. `europe-west1.gcp`), `base_url` (the API host;
the region's when empty); credentials `client_id`, `client_secret`; options `scope` (default
`view_orders:<projectKey>`), `auth_url` (the auth host; derived from the region, or from an
`api.<region>.commercetools.com` base URL, when empty), `locale` (for product names; the
chatbot's language when empty).
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from tracking.carriers import tracking_url
from tracking.clients.base import OrderClientError
from tracking.clients.config import checked_credentials, http_options, integration_options, refuse_invalid
from tracking.clients.http import CommerceHttp
from tracking.clients.support import (
    CachedToken,
    FieldErrors,
    LookupBudget,
    add_error,
    as_quantity,
    as_text,
    is_http_url,
    json_object,
    parse_timestamp,
    require_credentials,
    token_lifetime,
    tracking_template_errors,
    url_problems,
    usable_order_number,
)
from tracking.orders import LineItem, Order, OrderStatus, Shipment

SYSTEM = "commercetools"
_REGION = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")
_API_HOST = re.compile(r"^api\.(?P<region>[a-z0-9.-]+)\.commercetools\.com$")

# shipmentState decides once goods move; `Partial` means some parcels are on their way.
SHIPMENT_STATES = {
    "Pending": OrderStatus.RECEIVED,
    "Backorder": OrderStatus.RECEIVED,
    "Delayed": OrderStatus.RECEIVED,
    "Ready": OrderStatus.PACKED,
    "Partial": OrderStatus.SHIPPED,
    "Shipped": OrderStatus.SHIPPED,
    "Delivered": OrderStatus.DELIVERED,
    "Canceled": OrderStatus.CANCELLED,
}
# Without a shipmentState only orderState is known. `Complete` says the shop finished its work,
# not that the parcel arrived, so it reads as shipped rather than promising delivery.
ORDER_STATES = {
    "Open": OrderStatus.RECEIVED,
    "Confirmed": OrderStatus.RECEIVED,
    "Complete": OrderStatus.SHIPPED,
    "Cancelled": OrderStatus.CANCELLED,
}


def commercetools_status(order_state: str, shipment_state: str) -> OrderStatus:
    """The normalised status from commercetools' orderState and shipmentState."""
    if order_state == "Cancelled":
        return OrderStatus.CANCELLED
    if shipment_state:
        return SHIPMENT_STATES.get(shipment_state, OrderStatus.UNKNOWN)
    return ORDER_STATES.get(order_state, OrderStatus.UNKNOWN)


def localized(value: Any, locale: str) -> str:
    """One text of a LocalizedString: the locale, its language, English, then any."""
    if not isinstance(value, Mapping):
        return as_text(value)
    texts = {str(key): as_text(text) for key, text in value.items() if as_text(text)}
    wanted = locale.lower()
    language = wanted.split("-")[0]
    for key in (
        *(key for key in texts if key.lower() == wanted),
        *(key for key in texts if key.lower().split("-")[0] == language),
        *(key for key in texts if key.lower().split("-")[0] == "en"),
    ):
        return texts[key]
    return next(iter(texts.values()), "")


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a JSON list; a malformed entry is skipped rather than failing the order."""
    return [entry for entry in value if isinstance(entry, Mapping)] if isinstance(value, list) else []


def _hosts(integration: Any, options: Mapping[str, Any]) -> tuple[str, str]:
    """(API base URL, auth base URL); empty when neither is given nor derivable."""
    region = (integration.region or "").strip().lower()
    api_url = (integration.base_url or "").strip().rstrip("/")
    if not region and api_url:
        match = _API_HOST.match(httpx.URL(api_url).host) if is_http_url(api_url) else None
        region = match.group("region") if match else ""
    region_ok = bool(_REGION.match(region))
    if not api_url and region_ok:
        api_url = f"https://api.{region}.commercetools.com"
    auth_url = as_text(options.get("auth_url")).rstrip("/")
    if auth_url.endswith("/oauth/token"):
        auth_url = auth_url.removesuffix("/oauth/token")
    if not auth_url and region_ok:
        auth_url = f"https://auth.{region}.commercetools.com"
    return api_url, auth_url


class CommercetoolsClient:
    """Looks orders up by number in one commercetools project."""

    credential_keys = ("client_id", "client_secret")
    option_keys = {
        "scope": "OAuth scopes, space-separated (default view_orders:<project key>).",
        "auth_url": "Auth host, e.g. https://auth.europe-west1.gcp.commercetools.com (default: by region).",
        "locale": "Locale of product names, e.g. da-DK (default: the chatbot's language).",
    }

    def __init__(
        self,
        *,
        api_url: str,
        auth_url: str,
        project_key: str,
        client_id: str,
        client_secret: str,
        scope: str = "",
        locale: str = "en",
        tracking_templates: Mapping[str, str] | None = None,
        **http: Any,
    ) -> None:
        self.project_key = project_key
        self.locale = locale
        self.tracking_templates = dict(tracking_templates or {})
        self.scope = scope or f"view_orders:{project_key}"
        settings = http_options(**http)
        self.budget = LookupBudget(settings["budget"], SYSTEM)
        self.api = CommerceHttp(
            base_url=api_url,
            system=SYSTEM,
            provider="commercetools",
            headers={"Accept": "application/json"},
            **settings,
        )
        self.auth = CommerceHttp(
            base_url=auth_url,
            system=f"{SYSTEM} auth",
            provider="commercetools",
            headers={"Accept": "application/json"},
            auth=httpx.BasicAuth(client_id, client_secret),
            **settings,
        )
        self.token = CachedToken(SYSTEM, auth_url, client_id, project_key, self.scope, obtain=self._new_token)

    @classmethod
    def from_integration(cls, integration: Any, **overrides: Any) -> "CommercetoolsClient":
        """A client for the integration's project; raises `order_misconfigured` if it is incomplete."""
        refuse_invalid(SYSTEM, cls.validate(integration))
        options = integration_options(integration)
        credentials = checked_credentials(integration, {})
        api_url, auth_url = _hosts(integration, options)
        chatbot_language = getattr(getattr(integration, "chatbot", None), "language", "") or "en"
        return cls(
            api_url=api_url,
            auth_url=auth_url,
            project_key=integration.project_key.strip(),
            client_id=credentials["client_id"].strip(),
            client_secret=credentials["client_secret"].strip(),
            scope=as_text(options.get("scope")),
            locale=as_text(options.get("locale")) or chatbot_language,
            tracking_templates=integration.carrier_tracking_urls or {},
            **overrides,
        )

    @classmethod
    def validate(cls, integration: Any) -> FieldErrors:
        """Field errors of the integration's commercetools settings; {} when it can be used."""
        errors: FieldErrors = {}
        options = integration_options(integration)
        require_credentials(errors, checked_credentials(integration, errors), ("client_id", "client_secret"))
        if not (integration.project_key or "").strip():
            add_error(errors, "project_key", "The commercetools project key is required.")
        region = (integration.region or "").strip()
        if region and not _REGION.match(region.lower()):
            add_error(errors, "region", "Use a region such as europe-west1.gcp.")
        if integration.base_url:
            url_problems(errors, integration.base_url, field="base_url")
            host = httpx.URL(integration.base_url).host if is_http_url(integration.base_url) else ""
            if host.endswith(".commercetools.com") and not _API_HOST.match(host):
                add_error(
                    errors,
                    "base_url",
                    "Use the API host, e.g. https://api.europe-west1.gcp.commercetools.com.",
                )
        if options.get("auth_url"):
            url_problems(errors, options["auth_url"], field="options", label="auth_url")
        api_url, derived_auth_url = _hosts(integration, options)
        if not api_url or not derived_auth_url:
            add_error(errors, "region", "Set the region (or the API base URL and options.auth_url).")
        scope = options.get("scope")
        if scope is not None and not isinstance(scope, str):
            add_error(errors, "options", "scope: use space-separated scopes, e.g. view_orders:my-project.")
        for problem in tracking_template_errors(integration.carrier_tracking_urls):
            add_error(errors, "carrier_tracking_urls", problem)
        return errors

    def _new_token(self) -> tuple[str, float]:
        # Asking for a token changes nothing on the server, so it may be retried like a read.
        response = self.budget.grant(self.auth).request(
            "POST",
            "/oauth/token",
            idempotent=True,
            data={"grant_type": "client_credentials", "scope": self.scope},
        )
        if response.status_code == 404:
            raise OrderClientError(
                "order_misconfigured", "commercetools auth has no token endpoint at that URL.", permanent=True
            )
        body = json_object(response, f"{SYSTEM} auth")
        token = as_text(body.get("access_token"))
        if not token:
            raise OrderClientError(
                "order_bad_response", "commercetools auth answered without an access token."
            )
        return token, token_lifetime(body.get("expires_in"))

    def _get(self, path: str, **params: Any) -> httpx.Response:
        """One lookup (token, request, request again after a refused token) inside one budget."""
        self.budget.start()
        return self.token.call(
            lambda token: self.budget.grant(self.api).request(
                "GET", path, params=params or None, headers={"Authorization": f"Bearer {token}"}
            )
        )

    def fetch_order(self, number: str) -> Order | None:
        """The order with this order number, or None when the project has none."""
        number = usable_order_number(number)
        if number is None:
            return None
        project = quote(self.project_key, safe="")
        response = self._get(f"/{project}/orders/order-number={quote(number, safe='')}")
        if response.status_code == 404:
            return None
        return self._order(json_object(response, SYSTEM), number)

    def check_connection(self) -> str:
        """Fetches a token and reads one order of the project (nothing of it is returned)."""
        response = self._get(f"/{quote(self.project_key, safe='')}/orders", limit=1, withTotal="false")
        if response.status_code == 404:
            raise OrderClientError(
                "order_misconfigured",
                "commercetools has no such project; check the project key.",
                permanent=True,
            )
        json_object(response, SYSTEM)
        return f"commercetools project {self.project_key!r} reached; orders can be read."

    def _order(self, body: Mapping[str, Any], requested: str) -> Order:
        order_state = as_text(body.get("orderState"))
        shipment_state = as_text(body.get("shipmentState"))
        address = body.get("shippingAddress") or body.get("billingAddress") or {}
        return Order(
            number=as_text(body.get("orderNumber")) or requested,
            status=commercetools_status(order_state, shipment_state),
            raw_status=" / ".join(state for state in (order_state, shipment_state) if state),
            placed_at=parse_timestamp(body.get("createdAt")),
            items=tuple(self._items(body)),
            shipments=tuple(self._shipments(body)),
            customer_email=as_text(body.get("customerEmail")),
            postcode=as_text(address.get("postalCode")) if isinstance(address, Mapping) else "",
        )

    def _items(self, body: Mapping[str, Any]) -> Iterator[LineItem]:
        for line in [*_mappings(body.get("lineItems")), *_mappings(body.get("customLineItems"))]:
            variant = line.get("variant") if isinstance(line.get("variant"), Mapping) else {}
            yield LineItem(
                name=localized(line.get("name"), self.locale),
                quantity=as_quantity(line.get("quantity")),
                sku=as_text(variant.get("sku")),
            )

    def _shipments(self, body: Mapping[str, Any]) -> Iterator[Shipment]:
        # Single shipping mode keeps deliveries in shippingInfo; multiple mode in shipping[].
        infos = [
            body.get("shippingInfo"),
            *(entry.get("shippingInfo") for entry in _mappings(body.get("shipping"))),
        ]
        seen = set()
        for info in _mappings(infos):
            for delivery in _mappings(info.get("deliveries")):
                for parcel in _mappings(delivery.get("parcels")):
                    data = parcel.get("trackingData")
                    number = as_text(data.get("trackingId")) if isinstance(data, Mapping) else ""
                    # Return labels are the shopper's way back, not the way to them.
                    if not number or data.get("isReturn") is True:
                        continue
                    carrier = as_text(data.get("carrier")) or as_text(data.get("provider"))
                    if (carrier, number) in seen:
                        continue
                    seen.add((carrier, number))
                    yield Shipment(
                        carrier=carrier,
                        tracking_number=number,
                        tracking_url=tracking_url(carrier, number, self.tracking_templates),
                    )

    def close(self) -> None:
        self.api.close()
        self.auth.close()
