"""The contract every commerce client keeps: one call, one error type, bounded retries."""

from typing import Protocol

from chatplatform.calls.failures import FailureKind
from tracking.orders import Order

_CONFIGURATION_CODES = frozenset({"order_auth_failed", "order_misconfigured"})
_TRANSIENT_CODES = frozenset({"order_timeout", "order_unavailable", "order_rate_limited"})


class OrderClientError(Exception):
    """A commerce call failed.

    `code` is stable snake_case (`order_auth_failed`, `order_misconfigured`, `order_unavailable`,
    `order_timeout`, `order_rate_limited`, `order_bad_response`); `message` is human text that
    never contains a credential or personal data; `permanent` says retrying cannot help (wrong
    credentials or configuration) as opposed to an outage, a timeout or throttling.
    """

    def __init__(self, code: str, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.permanent = permanent

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def failure_kind(self) -> FailureKind:
        if self.code in _CONFIGURATION_CODES:
            return FailureKind.CONFIGURATION
        if not self.permanent and self.code in _TRANSIENT_CODES:
            return FailureKind.TRANSIENT
        return FailureKind.PERMANENT


class OrderClient(Protocol):
    def fetch_order(self, number: str) -> Order | None:
        """The order with exactly this number, or None when the shop has no such order."""
        ...

    def check_connection(self) -> str:
        """A short description of what was reached; raises OrderClientError otherwise."""
        ...
