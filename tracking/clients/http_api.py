"""A configurable client for any JSON order API, set up by staff in the integration's options.

| option | meaning |
|---|---|
| `url_template` | path under `base_url`, or an absolute URL, with `{order_number}` (URL-encoded) |
| `method` | `GET` (default) or `POST` |
| `body_template` | POST only: a JSON value; `{order_number}` inside its strings becomes the number |
| `headers` | non-secret headers, e.g. `{"Accept-Language": "da"}` |
| `auth_scheme` | `none` (default); `bearer`: credentials `token`; `basic`: `username`, `password`; |
| | `header`: `api_key`, sent in the header named by `auth_header` (default `X-Api-Key`) |
| `not_found_statuses` | statuses meaning "no such order" (default `[404]`; e.g. `[404, 410]` or `[204]`) |
| `mapping` | JMESPath expressions, see `tracking.clients.mapping` (`number` and `status` required) |
| `status_map` | the API's status word to received, packed, shipped, delivered or cancelled |
| `check_order_number` | a real order number that `check_connection` looks up and maps |

A POST lookup only reads, so it is retried like a GET. In POST mode the placeholder may sit in
the body alone (e.g. GraphQL variables), since its URL is often fixed.
"""

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from tracking.clients.base import OrderClientError
from tracking.clients.config import checked_credentials, http_options, integration_options, refuse_invalid
from tracking.clients.http import CommerceHttp
from tracking.clients.mapping import OrderMapping, mapping_errors
from tracking.clients.support import (
    FieldErrors,
    add_error,
    as_text,
    is_http_url,
    json_body,
    placeholders,
    require_credentials,
    tracking_template_errors,
    url_problems,
    usable_order_number,
)
from tracking.orders import Order

SYSTEM = "The order API"
PLACEHOLDER = "{order_number}"
PROBE_NUMBER = "connection-check-0"
METHODS = ("GET", "POST")
AUTH_CREDENTIALS = {
    "none": (),
    "bearer": ("token",),
    "basic": ("username", "password"),
    "header": ("api_key",),
}
DEFAULT_AUTH_HEADER = "X-Api-Key"
# Headers that carry secrets belong in credentials, where they are encrypted and masked.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
# Throttling, outages and refused credentials must stay errors, never read as "no such order".
_NOT_FOUND_FORBIDDEN = frozenset({200, 401, 403, 408, 425, 429})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class _NotFoundTransport(httpx.BaseTransport):
    """Marks the configured "not found" statuses before CommerceHttp sees them.

    CommerceHttp returns 404 and treats other 4xx as configuration errors; an API that answers
    410 or 400 for an unknown order is shown to it as 404, tagged so that only configured
    statuses count as "not found".
    """

    def __init__(self, inner: httpx.BaseTransport, statuses: Iterable[int]) -> None:
        self.inner = inner
        self.statuses = frozenset(statuses)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if response.status_code in self.statuses:
            response.extensions = {**response.extensions, "order_not_found": True}
            if response.status_code >= 400:
                response.status_code = 404
        return response

    def close(self) -> None:
        self.inner.close()


def _fill(value: Any, number: str) -> Any:
    """The body template with the number put into its strings, as JSON data (no escaping issues)."""
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, number)
    if isinstance(value, list):
        return [_fill(entry, number) for entry in value]
    if isinstance(value, dict):
        return {key: _fill(entry, number) for key, entry in value.items()}
    return value


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return PLACEHOLDER in value
    if isinstance(value, list):
        return any(_has_placeholder(entry) for entry in value)
    if isinstance(value, dict):
        return any(_has_placeholder(entry) for entry in value.values())
    return False


def _body_template(value: Any) -> Any:
    """The body template as JSON data; text is parsed (admin may store it as a JSON string)."""
    return json.loads(value) if isinstance(value, str) else value


def _absolute_url_problem(url: str) -> str:
    """The shared URL policy for an absolute url_template (which, unlike base_url, may have a query)."""
    if not is_http_url(url):
        return "an absolute URL must be http(s)."
    parsed = httpx.URL(url)
    if parsed.userinfo:
        return "put credentials in the credential fields, never in the URL."
    if parsed.scheme != "https" and parsed.host not in LOCAL_HOSTS:
        return "use https; plain http is only allowed for localhost."
    return ""


def _option_errors(options: Mapping[str, Any], credentials: Mapping[str, Any]) -> FieldErrors:
    errors: FieldErrors = {}
    method = str(options.get("method") or "GET").upper()
    if method not in METHODS:
        add_error(errors, "options", f"method: use {' or '.join(METHODS)}.")
    body: Any = None
    if options.get("body_template") not in (None, ""):
        try:
            body = _body_template(options["body_template"])
        except ValueError as exc:
            add_error(errors, "options", f"body_template: not valid JSON ({exc.msg}).")
        if method != "POST":
            add_error(errors, "options", "body_template: only used with method POST.")
    template = options.get("url_template")
    if not isinstance(template, str) or not template.strip():
        add_error(errors, "options", "url_template: required, e.g. /api/orders/{order_number}.")
    else:
        names = placeholders(template)
        if any(name != "order_number" for name in names):
            others = ", ".join(f"{{{name}}}" for name in names if name != "order_number")
            add_error(errors, "options", f"url_template: only {PLACEHOLDER} may be used, not {others}.")
        if PLACEHOLDER not in template and not (method == "POST" and _has_placeholder(body)):
            where = "url_template or body_template" if method == "POST" else "url_template"
            add_error(errors, "options", f"{where}: must contain {PLACEHOLDER}.")
        if "://" in template:
            problem = _absolute_url_problem(template.replace(PLACEHOLDER, "1"))
            if problem:
                add_error(errors, "options", f"url_template: {problem}")
    scheme = options.get("auth_scheme") or "none"
    auth_header = options.get("auth_header") or DEFAULT_AUTH_HEADER
    if not isinstance(scheme, str) or scheme not in AUTH_CREDENTIALS:
        add_error(errors, "options", f"auth_scheme: use one of {', '.join(AUTH_CREDENTIALS)}.")
    else:
        require_credentials(errors, credentials, AUTH_CREDENTIALS[scheme])
    if scheme == "header" and not (isinstance(auth_header, str) and _HEADER_NAME.match(auth_header)):
        add_error(errors, "options", "auth_header: use a header name such as X-Api-Key.")
    headers = options.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(isinstance(v, str) for v in headers.values()):
        add_error(
            errors,
            "options",
            'headers: use a JSON object of header name to text, e.g. {"Accept-Language": "da"}.',
        )
    else:
        for name in headers:
            if not _HEADER_NAME.match(str(name)):
                add_error(errors, "options", f"headers: {name!r} is not a valid header name.")
            elif name.lower() in SECRET_HEADERS or (
                scheme == "header" and name.lower() == str(auth_header).lower()
            ):
                add_error(
                    errors, "options", f"headers: {name} carries a secret; use auth_scheme and credentials."
                )
    statuses = options.get("not_found_statuses", [404])
    if not isinstance(statuses, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and 200 <= s < 500 and s not in _NOT_FOUND_FORBIDDEN
        for s in statuses
    ):
        add_error(errors, "options", "not_found_statuses: use a list of 2xx/4xx statuses such as [404, 410].")
    for problem in mapping_errors(options.get("mapping"), options.get("status_map")):
        add_error(errors, "options", problem)
    return errors


class HttpApiClient:
    """Looks orders up in a JSON API described entirely by the integration's options."""

    credential_keys = ("token", "username", "password", "api_key")
    option_keys = {
        "url_template": "Path under base_url or absolute URL with {order_number}.",
        "method": "GET (default) or POST.",
        "body_template": "POST only: JSON body; {order_number} inside strings becomes the number.",
        "headers": "Non-secret headers as a JSON object.",
        "auth_scheme": "none, bearer (token), basic (username, password) or header (api_key).",
        "auth_header": "Header that carries api_key for auth_scheme header (default X-Api-Key).",
        "not_found_statuses": "Statuses meaning no such order (default [404]).",
        "mapping": "JMESPath per field: order, number, status, placed_at, email, postcode, items, "
        "item_name, item_quantity, item_sku, shipments, shipment_carrier, shipment_tracking_number, "
        "shipment_tracking_url.",
        "status_map": "The API's status to received, packed, shipped, delivered or cancelled.",
        "check_order_number": "A real order number that the connection check looks up and maps.",
    }

    def __init__(
        self,
        *,
        base_url: str,
        url_template: str,
        mapping: Mapping[str, str],
        method: str = "GET",
        body_template: Any = None,
        headers: Mapping[str, str] | None = None,
        auth_scheme: str = "none",
        credentials: Mapping[str, str] | None = None,
        auth_header: str = DEFAULT_AUTH_HEADER,
        not_found_statuses: Iterable[int] = (404,),
        status_map: Mapping[str, str] | None = None,
        tracking_templates: Mapping[str, str] | None = None,
        check_order_number: str = "",
        **http: Any,
    ) -> None:
        credentials = credentials or {}
        self.url_template = url_template.strip()
        self.method = method.upper()
        self.body_template = body_template
        self.not_found_statuses = frozenset(not_found_statuses)
        self.check_order_number = check_order_number
        all_headers = {"Accept": "application/json", **(headers or {})}
        auth: httpx.Auth | None = None
        if auth_scheme == "bearer":
            all_headers["Authorization"] = f"Bearer {credentials['token']}"
        elif auth_scheme == "basic":
            auth = httpx.BasicAuth(credentials["username"], credentials["password"])
        elif auth_scheme == "header":
            all_headers[auth_header] = credentials["api_key"]
        settings = http_options(**http)
        settings["transport"] = _NotFoundTransport(
            settings.get("transport") or httpx.HTTPTransport(), self.not_found_statuses
        )
        self.http = CommerceHttp(
            base_url=base_url, system=SYSTEM, provider="http", headers=all_headers, auth=auth, **settings
        )
        self.mapping = OrderMapping(mapping, status_map, tracking_templates, system=SYSTEM)

    @classmethod
    def from_integration(cls, integration: Any, **overrides: Any) -> "HttpApiClient":
        """A client for the integration; raises `order_misconfigured` if it is incomplete."""
        refuse_invalid(SYSTEM, cls.validate(integration))
        options = integration_options(integration)
        credentials = {key: as_text(value) for key, value in checked_credentials(integration, {}).items()}
        return cls(
            base_url=integration.base_url,
            url_template=options["url_template"],
            mapping=options["mapping"],
            method=options.get("method") or "GET",
            body_template=_body_template(options.get("body_template")),
            headers=options.get("headers") or {},
            auth_scheme=options.get("auth_scheme") or "none",
            credentials=credentials,
            auth_header=options.get("auth_header") or DEFAULT_AUTH_HEADER,
            not_found_statuses=options.get("not_found_statuses", [404]),
            status_map=options.get("status_map") or {},
            tracking_templates=integration.carrier_tracking_urls or {},
            check_order_number=as_text(options.get("check_order_number")),
            **overrides,
        )

    @classmethod
    def validate(cls, integration: Any) -> FieldErrors:
        """Field errors of the request, auth and mapping options; {} when the client can be built."""
        errors: FieldErrors = {}
        url_problems(errors, integration.base_url, field="base_url")
        credentials = checked_credentials(integration, errors)
        for field, problems in _option_errors(integration_options(integration), credentials).items():
            for problem in problems:
                add_error(errors, field, problem)
        for problem in tracking_template_errors(integration.carrier_tracking_urls):
            add_error(errors, "carrier_tracking_urls", problem)
        return errors

    def _lookup(self, number: str) -> Any:
        """The decoded answer for this number, or None when the API says there is no such order."""
        url = self.url_template.replace(PLACEHOLDER, quote(number, safe=""))
        kwargs: dict[str, Any] = {}
        if self.method == "POST" and self.body_template is not None:
            kwargs["json"] = _fill(self.body_template, number)
        response = self.http.request(self.method, url, **kwargs)
        if response.extensions.get("order_not_found"):
            return None
        if response.status_code == 404:
            raise OrderClientError(
                "order_misconfigured",
                f"{SYSTEM} answered HTTP 404, not one of the not_found_statuses; check url_template.",
                permanent=True,
            )
        return json_body(response, SYSTEM)

    def fetch_order(self, number: str) -> Order | None:
        """The order with this number (compared without case and surrounding space), or None."""
        number = usable_order_number(number)
        if number is None:
            return None
        document = self._lookup(number)
        return None if document is None else self.mapping.order(document, number)

    def check_connection(self) -> str:
        """Looks up `check_order_number` (or a number that should not exist) through the mapping."""
        number = self.check_order_number or PROBE_NUMBER
        document = self._lookup(number)
        order = None if document is None else self.mapping.order(document, number)
        if order is None:
            return (
                f"{SYSTEM} reached; order {number!r} not found (set check_order_number to test the mapping)."
            )
        return f"{SYSTEM} reached; order {number!r} read and mapped, status {order.status.value}."

    def close(self) -> None:
        self.http.close()
