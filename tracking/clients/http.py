"""HTTP for commerce clients: timeouts, bounded retries inside a time budget, one error type.

Every client sends its requests through `CommerceHttp.request`: at most `attempts` tries (3) for
idempotent reads, exponential backoff with full jitter, a server's `Retry-After` honoured (never
past the budget), and no retry on answers that retrying cannot change (401/403 and other 4xx).
"""

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay

from tracking.clients.base import OrderClientError

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class _Transient(Exception):
    """A failure worth another attempt; carries the error to raise when attempts run out."""

    def __init__(self, error: OrderClientError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


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
    ) -> None:
        self.system = system
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
        started = time.monotonic()

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            remaining = self.budget - (time.monotonic() - started)
            delay = random.uniform(0, self.backoff * 2 ** (state.attempt_number - 1))  # noqa: S311
            if isinstance(exc, _Transient) and exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            if delay >= remaining:
                # Waiting would break the budget: give up now with the last error.
                raise (
                    exc.error
                    if isinstance(exc, _Transient)
                    else OrderClientError("order_timeout", f"{self.system} did not answer in time.")
                )
            return delay

        retrying = Retrying(
            stop=stop_after_attempt(self.attempts if idempotent else 1) | stop_after_delay(self.budget),
            wait=wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, _Transient)),
            reraise=True,
        )
        try:
            return retrying(self._once, method, url, check, **kwargs)
        except _Transient as exc:
            raise exc.error from None

    def _once(
        self, method: str, url: str, check: Callable[[httpx.Response], None] | None, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise _Transient(
                OrderClientError("order_timeout", f"{self.system} did not answer in time.")
            ) from None
        except httpx.TransportError:
            raise _Transient(
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
            raise _Transient(
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
        return _Transient(OrderClientError(code, message), retry_after)

    def close(self) -> None:
        self.client.close()
