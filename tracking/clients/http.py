"""HTTP for commerce clients: timeouts, bounded retries inside a time budget, one error type.

Every client sends its requests through `CommerceHttp.request`: at most `attempts` tries (3) for
idempotent reads, exponential backoff with full jitter, a server's `Retry-After` honoured (never
past the budget), and no retry on answers that retrying cannot change (401/403 and other 4xx).
Each request is one `chatplatform.calls.invoke` (operation "commerce", provider = the kind).
"""

import email.utils
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from chatplatform.calls import CallFailed, FailureKind, invoke
from tracking.clients.base import OrderClientError

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def _transient(error: OrderClientError, retry_after: float | None = None) -> CallFailed:
    """A failure worth another attempt; carries the error to raise when attempts run out."""
    return CallFailed(FailureKind.TRANSIENT, error, retry_after=retry_after)


def _only_marked_transient(exc: BaseException) -> FailureKind:
    # Only what `_once` or a `check` marked transient is retried: an OrderClientError raised as
    # it is (a bad body, a refusal) means the answer will not change.
    return exc.kind if isinstance(exc, CallFailed) else FailureKind.PERMANENT


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds, from either of its forms (delta seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


class CommerceHttp:
    """One base URL, its default headers and auth, and the retry policy."""

    def __init__(
        self,
        *,
        base_url: str,
        system: str,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        budget: float = 20.0,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        provider: str = "",
    ) -> None:
        self.system = system
        # The integration kind (shopify, magento2, ...) for telemetry; the system is human text.
        self.provider = provider or system.lower()
        self.attempts = attempts
        self.budget = budget
        self.backoff = backoff
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers or {}),
            auth=auth,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool = True,
        check: Callable[[httpx.Response], None] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request; returns any response < 400 and 404, raises OrderClientError otherwise.

        `check` inspects a successful response inside the retry loop; it may raise
        `self.transient(...)` for throttling reported in a body (Shopify's `THROTTLED`).
        """
        return invoke(
            self._once,
            method,
            url,
            check,
            operation="commerce",
            provider=self.provider,
            retries=(self.attempts if idempotent else 1) - 1,
            classify=_only_marked_transient,
            budget=self.budget,
            backoff=self.backoff,
            max_retry_after=self.budget,
            **kwargs,
        )

    def _once(
        self, method: str, url: str, check: Callable[[httpx.Response], None] | None, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise _transient(
                OrderClientError("order_timeout", f"{self.system} did not answer in time.")
            ) from None
        except httpx.TransportError:
            raise _transient(
                OrderClientError("order_unavailable", f"{self.system} could not be reached.")
            ) from None
        status = response.status_code
        if status < 400 or status == 404:
            if check is not None and status < 400:
                check(response)
            return response
        if status in (401, 403):
            raise OrderClientError(
                "order_auth_failed",
                f"{self.system} refused the credentials (HTTP {status}); check them in admin.",
                permanent=True,
            )
        if status in TRANSIENT_STATUSES:
            code = "order_rate_limited" if status == 429 else "order_unavailable"
            raise _transient(
                OrderClientError(code, f"{self.system} is busy or unavailable (HTTP {status})."),
                retry_after_seconds(response.headers.get("Retry-After")),
            )
        raise OrderClientError(
            "order_misconfigured",
            f"{self.system} rejected the request (HTTP {status}); check the integration's settings.",
            permanent=True,
        )

    def transient(self, code: str, message: str, retry_after: float | None = None) -> Exception:
        """For clients that detect throttling in a 200 body (Shopify's THROTTLED): retry it."""
        return _transient(OrderClientError(code, message), retry_after)

    def close(self) -> None:
        self.client.close()
