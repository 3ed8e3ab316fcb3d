"""What every client reads from a CommerceIntegration: secrets, HTTP policy, safe display values."""

import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache

from chatplatform import crypto
from tracking.clients.base import OrderClientError

logger = logging.getLogger(__name__)

# Stop using a minted token this long before the server says it expires.
TOKEN_EXPIRY_MARGIN_SECONDS = 300

# Order numbers are typed by shoppers; anything beyond these characters cannot be an order number
# and must never reach a search query (Shopify's search syntax treats quotes, spaces, colons and
# parentheses as operators).
_ORDER_NUMBER = re.compile(r"^[\w][\w./-]{0,63}$")


def integration_credentials(integration: Any) -> dict[str, str]:
    """The integration's secrets as a dict; raises ValueError when they are not a JSON object."""
    raw = (integration.credentials or "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError("the credentials are not valid JSON") from None
    if not isinstance(value, dict):
        raise ValueError("the credentials must be a JSON object")
    return {str(key): "" if item is None else str(item) for key, item in value.items()}


def checked_credentials(integration: Any, errors: dict[str, list[str]]) -> dict[str, str]:
    """For `validate`: the decoded credentials, or {} with an error under "credentials" (which
    never quotes the stored value)."""
    try:
        return integration_credentials(integration)
    except ValueError as exc:
        errors.setdefault("credentials", []).append(f"The stored credentials are unusable: {exc}.")
        return {}


def refuse_invalid(system: str, errors: dict[str, list[str]]) -> None:
    """For `from_integration`: refuse what `validate` rejects with a permanent error naming the
    fields and the first problem (never a value)."""
    if errors:
        first = next(iter(errors.values()))[0]
        raise OrderClientError(
            "order_misconfigured",
            f"{system} integration is not configured correctly ({', '.join(sorted(errors))}): "
            f"{first} See the integration in admin.",
            permanent=True,
        )


def integration_options(integration: Any) -> dict[str, Any]:
    """The integration's non-secret options, always a dict."""
    return integration.options if isinstance(integration.options, dict) else {}


_HTTP_OVERRIDES = frozenset({"timeout", "budget", "backoff", "attempts", "transport"})


def http_options(**overrides: Any) -> dict[str, Any]:
    """CommerceHttp keyword arguments from settings; tests and callers may override any of them."""
    unknown = set(overrides) - _HTTP_OVERRIDES
    if unknown:
        raise TypeError(f"Unknown client overrides: {', '.join(sorted(unknown))}")
    options: dict[str, Any] = {
        "timeout": settings.TRACKING_HTTP_TIMEOUT_SECONDS,
        "budget": settings.TRACKING_HTTP_BUDGET_SECONDS,
        "backoff": settings.TRACKING_HTTP_BACKOFF_SECONDS,
    }
    options.update(overrides)
    return options


def safe_url(url: str) -> str:
    """The URL without user info, query or fragment: safe to show in messages and logs."""
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def order_number_normalise(number: str) -> str | None:
    """The order number as systems compare it (trimmed, upper case, no leading "#"), or None.

    None means the text cannot be an order number, so no request is made for it.
    """
    core = (number or "").strip().upper().lstrip("#").strip()
    return core if _ORDER_NUMBER.match(core) else None


def url_errors(url: str, *, field: str = "base_url") -> dict[str, list[str]]:
    """Errors of a base URL: https (plain http only for this machine) and no credentials inside."""
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.hostname:
        return {field: ["Enter the full URL, e.g. https://shop.example.com."]}
    if parts.username or parts.password:
        return {field: ["Put credentials in the credential fields, never in the URL."]}
    if parts.scheme != "https" and parts.hostname not in {"localhost", "127.0.0.1", "::1"}:
        return {field: ["Use https; plain http is only allowed for localhost."]}
    if parts.query or parts.fragment:
        return {field: ["The base URL takes no query string or fragment."]}
    return {}


def missing_credentials(credentials: dict[str, str], *names: str, reason: str) -> dict[str, list[str]]:
    """An error per credential in `names` that is empty, explaining when it is needed."""
    return {name: [f"Required {reason}."] for name in names if not credentials.get(name)}


def token_cache_get(key: str) -> str:
    """A token cached by `token_cache_set`, or "" (missing, unreadable, or the cache is down)."""
    # The cache only saves a token request: when it fails or holds junk, a new token is minted.
    try:
        stored = cache.get(key)
        return crypto.decrypt(stored) if isinstance(stored, str) and stored else ""
    except Exception:
        logger.warning("Token cache unavailable or unreadable; minting a new commerce API token.")
        return ""


def token_cache_set(key: str, token: str, lifetime: float | None) -> None:
    """Caches a token, encrypted, until shortly before its `lifetime` (seconds) runs out."""
    if lifetime is None:
        timeout = 600.0  # the server stated no lifetime: keep the token only briefly
    elif lifetime > 2 * TOKEN_EXPIRY_MARGIN_SECONDS:
        timeout = lifetime - TOKEN_EXPIRY_MARGIN_SECONDS
    else:
        timeout = lifetime / 2
    if timeout < 1:
        return
    try:
        # Encrypted like every stored secret: the cache may be a shared Redis.
        cache.set(key, crypto.encrypt(token), timeout=int(timeout))
    except Exception:
        logger.warning("Token cache unavailable; the commerce API token is not cached.")
