"""`invoke` and `ainvoke`: one call to a provider or an external system, recorded and retried.

Each invocation is one telemetry span (operation, provider, model, duration, outcome, error
type; the tenant and feature come from the caller's `telemetry.context`). A failure is
classified (`FailureKind`); only transient ones are tried again, at most `retries` more times,
after exponential backoff with full jitter that is never shorter than the other side's
`Retry-After` and never runs past `budget` seconds. The error raised at the end is the call's
own (`ProviderError`, `VectorStoreError`, `OrderClientError`), so error codes stay what they were.

Where an SDK already retries (OpenAI's before the first byte, Pinecone's), callers pass
`retries=0` so that attempts do not multiply.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from chatplatform import telemetry
from chatplatform.calls.failures import CallFailed, FailureKind, classify_failure, error_code, retry_after

T = TypeVar("T")

Classify = Callable[[BaseException], FailureKind]
OnResult = Callable[[Any, Any], None]


class _Policy:
    """The retry policy of one invocation and its state."""

    __slots__ = (
        "backoff",
        "budget",
        "classify",
        "clock",
        "max_backoff",
        "max_retry_after",
        "retries",
        "started",
    )

    def __init__(
        self,
        *,
        retries: int,
        classify: Classify | None,
        budget: float | None,
        backoff: float,
        max_backoff: float,
        max_retry_after: float,
        clock: Callable[[], float],
    ) -> None:
        self.retries = max(0, retries)
        self.classify = classify or classify_failure
        self.budget = budget
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.clock = clock
        self.started = clock()

    def kind(self, exc: Exception, final: Exception) -> FailureKind:
        """What kind of failure ended the call (the error's own word when it has one)."""
        return classify_failure(final) if hasattr(final, "failure_kind") else self.classify(exc)

    def delay(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up now."""
        if attempt > self.retries or self.classify(exc) is not FailureKind.TRANSIENT:
            return None
        delay = random.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))  # noqa: S311
        requested = retry_after(exc)
        if requested is not None:
            delay = max(delay, min(requested, self.max_retry_after))
        if self.budget is not None and self.clock() - self.started + delay >= self.budget:
            return None  # waiting would break the budget: give up with the last error
        return delay


def _annotate(call: telemetry.Call, attributes: dict[str, Any] | None) -> None:
    if attributes:
        for key, value in attributes.items():
            call.set(key, value)


def _failed(call: telemetry.Call, error: Exception, kind: FailureKind, attempts: int) -> None:
    # The escaping exception gives the span its error type (the class name); the stable code
    # and the kind of failure go with it as attributes.
    call.set("error.code", error_code(error))
    call.set("failure.kind", kind.value)
    call.set("attempts", attempts)


def _final(exc: Exception) -> Exception:
    return exc.error if isinstance(exc, CallFailed) and exc.error is not None else exc


def invoke(
    fn: Callable[..., T],
    *args: Any,
    operation: str,
    provider: str,
    model: str = "",
    retries: int = 2,
    classify: Classify | None = None,
    budget: float | None = None,
    backoff: float = 0.5,
    max_backoff: float = 8.0,
    max_retry_after: float = 30.0,
    on_result: OnResult | None = None,
    attributes: dict[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    **kwargs: Any,
) -> T:
    """`fn(*args, **kwargs)` inside a telemetry span, transient failures retried.

    `on_result(call, result)` fills the span from the result (usage, the model that answered);
    `attributes` are added to the span (`db.collection.name`, ...).
    """
    policy = _Policy(
        retries=retries,
        classify=classify,
        budget=budget,
        backoff=backoff,
        max_backoff=max_backoff,
        max_retry_after=max_retry_after,
        clock=clock,
    )
    with telemetry.span(operation=operation, provider=provider, model=model) as call:
        _annotate(call, attributes)
        attempt = 0
        while True:
            attempt += 1
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                delay = policy.delay(exc, attempt)
                if delay is None:
                    final = _final(exc)
                    _failed(call, final, policy.kind(exc, final), attempt)
                    if final is exc:
                        raise
                    raise final from None
                sleep(delay)
                continue
            if on_result is not None:
                on_result(call, result)
            return result


async def ainvoke(
    coro_fn: Callable[..., Awaitable[T]],
    *args: Any,
    operation: str,
    provider: str,
    model: str = "",
    retries: int = 2,
    classify: Classify | None = None,
    budget: float | None = None,
    backoff: float = 0.5,
    max_backoff: float = 8.0,
    max_retry_after: float = 30.0,
    on_result: OnResult | None = None,
    attributes: dict[str, Any] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    **kwargs: Any,
) -> T:
    """`await coro_fn(*args, **kwargs)` as `invoke` does it."""
    policy = _Policy(
        retries=retries,
        classify=classify,
        budget=budget,
        backoff=backoff,
        max_backoff=max_backoff,
        max_retry_after=max_retry_after,
        clock=clock,
    )
    with telemetry.span(operation=operation, provider=provider, model=model) as call:
        _annotate(call, attributes)
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await coro_fn(*args, **kwargs)
            except Exception as exc:
                delay = policy.delay(exc, attempt)
                if delay is None:
                    final = _final(exc)
                    _failed(call, final, policy.kind(exc, final), attempt)
                    if final is exc:
                        raise
                    raise final from None
                await sleep(delay)
                continue
            if on_result is not None:
                on_result(call, result)
            return result
