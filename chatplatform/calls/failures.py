"""What kind of failure an exception is, which decides whether a call is tried again.

Error types of our own say it themselves (a `failure_kind` property: `ProviderError`,
`VectorStoreError`, `OrderClientError`); code inside a call can raise `CallFailed` to say it
explicitly (a throttle reported in a 200 body); anything else is judged by its type.
"""

from __future__ import annotations

import enum

from django.core.exceptions import ImproperlyConfigured


class FailureKind(enum.StrEnum):
    TRANSIENT = "transient"  # an outage, a timeout, throttling: the same call may succeed later
    PERMANENT = "permanent"  # the other side refuses or fails in a way waiting does not change
    CONFIGURATION = "configuration"  # credentials, missing index or setting: someone must fix it
    INPUT = "input"  # this request's data is wrong (a refused image, a vector of another width)


class CallFailed(Exception):
    """Raised inside a call to say how it failed.

    `error` is what the caller raises if no retry helps (itself when None); `retry_after` is the
    other side's requested delay in seconds.
    """

    def __init__(
        self,
        kind: FailureKind,
        error: Exception | None = None,
        *,
        retry_after: float | None = None,
        message: str = "",
    ) -> None:
        super().__init__(message or (str(error) if error is not None else kind.value))
        self.kind = kind
        self.error = error
        self.retry_after = retry_after

    @property
    def code(self) -> str:
        return getattr(self.error, "code", "") or self.kind.value


def classify_failure(exc: BaseException) -> FailureKind:
    """The kind of failure `exc` is (the default classification of `invoke`)."""
    if isinstance(exc, CallFailed):
        return exc.kind
    kind = getattr(exc, "failure_kind", None)
    if isinstance(kind, FailureKind):
        return kind
    if isinstance(exc, ImproperlyConfigured):
        return FailureKind.CONFIGURATION
    if isinstance(exc, TimeoutError | ConnectionError):
        return FailureKind.TRANSIENT
    if isinstance(exc, ValueError | TypeError | KeyError):
        return FailureKind.INPUT
    if isinstance(exc, OSError):
        return FailureKind.TRANSIENT
    return FailureKind.PERMANENT


def error_code(exc: BaseException) -> str:
    """The stable code of an error (`provider_timeout`, `order_unavailable`), else its class name."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) and code else type(exc).__name__


def retry_after(exc: BaseException) -> float | None:
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, int | float) and value >= 0 else None
