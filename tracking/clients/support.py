"""What the commercetools, distributor and generic HTTP clients share beyond `config`, which
every client uses (credentials, HTTP policy, the misconfiguration error).

Errors collected per field, bearer tokens cached in Django's cache under a hash that never
includes a secret, one time budget per lookup, checks of carrier URL templates, and lenient
conversions of the values shops send.
"""

import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from datetime import time as day_start
from typing import Any, TypeVar

import httpx
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from tracking.clients.base import OrderClientError
from tracking.clients.config import (
    order_number_normalise,
    token_cache_get,
    token_cache_set,
    url_errors,
)
from tracking.clients.http import CommerceHttp

logger = logging.getLogger(__name__)

T = TypeVar("T")

FieldErrors = dict[str, list[str]]

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def usable_order_number(number: str) -> str | None:
    """The number to send (trimmed, without a leading "#"), or None when it cannot be one.

    The shared rule of `config.order_number_normalise` decides what can be an order number, but
    the number is sent in its own case: commercetools and many custom APIs match it exactly.
    """
    core = (number or "").strip().lstrip("#").strip()
    return core if order_number_normalise(core) is not None else None


def add_error(errors: FieldErrors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def require_credentials(errors: FieldErrors, credentials: Mapping[str, Any], names: tuple[str, ...]) -> None:
    """Report each missing secret by name only: the message never echoes a value."""
    for name in names:
        value = credentials.get(name)
        if not isinstance(value, str) or not value.strip():
            add_error(errors, "credentials", f"{name} is required.")


def url_problems(errors: FieldErrors, url: Any, *, field: str, label: str = "") -> None:
    """The shared URL policy (https, plain http only for this machine, no user info)."""
    for problem in url_errors(url if isinstance(url, str) else "", field=field).get(field, []):
        add_error(errors, field, f"{label}: {problem}" if label else problem)


def is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def placeholders(template: str) -> list[str]:
    """Names inside single braces, e.g. `["order_number"]` for `/orders/{order_number}`."""
    return _PLACEHOLDER.findall(template)


def tracking_template_errors(templates: Any) -> list[str]:
    """Problems with `carrier_tracking_urls`: each an http(s) URL with only `{tracking_number}`."""
    if not templates:
        return []
    if not isinstance(templates, Mapping):
        return [
            'Use a JSON object of carrier name to URL template, e.g. {"GLS": "https://...{tracking_number}"}.'
        ]
    problems = []
    for carrier, template in templates.items():
        if not isinstance(template, str) or not is_http_url(template.replace("{tracking_number}", "1")):
            problems.append(f"{carrier}: the template must be an http(s) URL.")
            continue
        names = placeholders(template)
        if "tracking_number" not in names:
            problems.append(f"{carrier}: the template needs {{tracking_number}}.")
        if any(name != "tracking_number" for name in names):
            problems.append(f"{carrier}: only {{tracking_number}} may be used as a placeholder.")
    return problems


def json_body(response: httpx.Response, system: str) -> Any:
    """The decoded JSON of a response; anything else is `order_bad_response`."""
    try:
        return response.json()
    except ValueError:
        raise OrderClientError(
            "order_bad_response", f"{system} answered with something other than JSON."
        ) from None


def json_object(response: httpx.Response, system: str) -> dict[str, Any]:
    body = json_body(response, system)
    if not isinstance(body, dict):
        raise OrderClientError("order_bad_response", f"{system} answered with JSON that is not an object.")
    return body


class LookupBudget:
    """One time budget for every request of a lookup: token, order, and the order again.

    CommerceHttp keeps each request inside its own budget; a lookup that first needs a token
    gives each request what is left, so the shopper never waits longer than one budget.
    """

    def __init__(self, seconds: float, system: str) -> None:
        self.seconds = seconds
        self.system = system
        self.deadline = time.monotonic() + seconds

    def start(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def grant(self, http: CommerceHttp) -> CommerceHttp:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise OrderClientError("order_timeout", f"{self.system} did not answer in time.")
        http.budget = remaining
        return http


class CachedToken:
    """A bearer token kept in Django's cache until shortly before it expires.

    The cache key is a hash of non-secret identifiers (system, URL, client id or user name), so
    neither the secret nor the token's owner is readable from Redis keys. The cache is an
    optimisation: when it is down the token is fetched for each lookup rather than failing it.
    """

    def __init__(self, *key_parts: str, obtain: Callable[[], tuple[str, float]]) -> None:
        digest = hashlib.sha256("\x1f".join(key_parts).encode()).hexdigest()
        self.key = f"tracking:token:{digest}"
        self.obtain = obtain

    def get(self) -> tuple[str, bool]:
        """The token and whether it came from the cache (only a cached token may be stale)."""
        token = token_cache_get(self.key)
        if token:
            return token, True
        token, expires_in = self.obtain()
        # Encrypted in the cache like every other stored secret, until shortly before expiry.
        token_cache_set(self.key, token, expires_in)
        return token, False

    def forget(self) -> None:
        try:
            cache.delete(self.key)
        except Exception:
            logger.warning("Token cache unavailable; could not drop a refused commerce API token.")

    def call(self, send: Callable[[str], T]) -> T:
        """`send(token)`, and once more with a new token when the API refuses a cached one."""
        token, cached = self.get()
        try:
            return send(token)
        except OrderClientError as exc:
            # A token just issued and refused will not be accepted on a second try either.
            if exc.code != "order_auth_failed" or not cached:
                raise
        logger.info("Commerce API refused a cached token; fetching a new one once.")
        self.forget()
        token, _ = self.get()
        return send(token)


def token_lifetime(value: Any, default: float = 3600.0) -> float:
    """Seconds a token lives, from an `expires_in`-like field; unknown means an hour."""
    if isinstance(value, bool):
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


def as_text(value: Any) -> str:
    """A scalar as stripped text; lists of one scalar are unwrapped, anything else is empty."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def as_quantity(value: Any) -> int:
    """A line quantity; shops send 2, 2.0 or "2". A missing quantity means one item."""
    if value is None or value == "" or isinstance(value, bool):
        return 1
    try:
        return int(float(str(value).strip().replace(",", ".")))
    except ValueError:
        return 1


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 text, a bare date or epoch (milli)seconds; else None.

    A date the shop wrote without an offset is read in the project's time zone. An unreadable
    date never fails a lookup: the order is still worth showing without it.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 100_000_000_000 else value  # epoch milliseconds
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = as_text(value)
    try:
        parsed = parse_datetime(text)
        if parsed is None:
            day = parse_date(text)
            parsed = datetime.combine(day, day_start.min) if day else None
    except ValueError:
        return None
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
