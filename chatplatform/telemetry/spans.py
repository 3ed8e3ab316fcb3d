"""The span API: time one call to an AI provider or external system and record it.

Recording costs an append to an in-process list: no I/O, no database, no lock held for longer
than the append. The flusher thread (`recorder.py`) writes the records in batches, counts the
tokens with tiktoken where the provider reported none, and exports them over OTLP when set up.

A context opened with `hold=True` keeps its records back until `release()`: the chat answer
holds its records until its first token has gone out, so no telemetry is written before it.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from django.conf import settings

logger = logging.getLogger(__name__)

OPERATIONS = ("chat", "embeddings", "vision", "json", "vector_query", "commerce", "job")
FEATURES = (
    "routing",
    "answer",
    "retrieval",
    "extraction",
    "analysis",
    "vision",
    "embeddings",
    "ingestion",
    "order_lookup",
    "tutor",
    "tutor_analysis",
    "tutor_lesson",
    "tutor_quiz",
    "job",
)
TENANT_TYPES = ("chatbot", "learner")


@dataclass
class CallRecord:
    """One finished call, as the span API hands it to subscribers and the flusher."""

    operation: str
    provider: str
    request_model: str
    started_at: float  # seconds since the epoch
    duration_ms: float
    outcome: str = "ok"
    error_type: str = ""
    response_model: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    usage_estimated: bool = False
    ttft_ms: float | None = None
    tenant_type: str = ""
    tenant_id: str = ""
    feature: str = ""
    attributes: dict = field(default_factory=dict)
    # Texts to count with tiktoken when the provider gave no usage; counted by the flusher, off
    # the hot path, and never stored.
    input_text: str = ""
    output_text: str = ""


class Held:
    """The records of a held context, waiting for `release()`."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []
        self._released = False
        # Records may finish on threads (sync_to_async) that copied the context.
        self._lock = threading.Lock()

    def add(self, record: CallRecord) -> bool:
        """Keep `record` back; False once released (the caller delivers it itself)."""
        with self._lock:
            if self._released:
                return False
            self._records.append(record)
            return True

    def release(self) -> None:
        """Hand the records kept so far on, and every later one straight away. Idempotent."""
        with self._lock:
            if self._released:
                return
            self._released = True
            records, self._records = self._records, []
        for record in records:
            _deliver(record)

    @property
    def released(self) -> bool:
        return self._released


@dataclass(frozen=True)
class _Scope:
    tenant_type: str = ""
    tenant_id: str = ""
    feature: str = ""
    held: Held | None = None


_scope: contextvars.ContextVar[_Scope] = contextvars.ContextVar("telemetry_scope", default=_Scope())  # noqa: B039


@contextlib.contextmanager
def context(
    *, tenant_type: str | None = None, tenant_id: str | None = None, feature: str | None = None, hold=False
) -> Iterator[Held | None]:
    """Defaults for the spans opened inside (and in tasks and threads that copy the context).

    Arguments left out are inherited. With `hold=True` the records of the spans finishing inside
    wait for the returned handle's `release()`, which the context's exit calls in any case."""
    current = _scope.get()
    changes = {}
    if tenant_type is not None:
        changes["tenant_type"] = tenant_type
    if tenant_id is not None:
        changes["tenant_id"] = str(tenant_id)
    if feature is not None:
        changes["feature"] = feature
    held = Held() if hold else None
    if held is not None:
        changes["held"] = held
    token = _scope.set(replace(current, **changes))
    try:
        yield held
    finally:
        _scope.reset(token)
        if held is not None:
            held.release()


class Call:
    """The span being timed: what the caller learns during the call goes here."""

    __slots__ = ("_first_token_at", "_started", "error_type", "record")

    def __init__(self, record: CallRecord) -> None:
        self.record = record
        self._started = time.perf_counter()
        self._first_token_at: float | None = None
        self.error_type = ""

    def first_token(self) -> None:
        """The first token of a stream arrived (only the first call counts)."""
        if self._first_token_at is None:
            self._first_token_at = time.perf_counter()

    def usage(self, *, input_tokens: int | None = None, output_tokens: int | None = None, estimated=False):
        """The provider's token usage (or the caller's own count, with `estimated=True`)."""
        if input_tokens is not None:
            self.record.input_tokens = int(input_tokens)
        if output_tokens is not None:
            self.record.output_tokens = int(output_tokens)
        self.record.usage_estimated = bool(estimated)

    def estimate_from(self, *, input_text: str = "", output_text: str = "") -> None:
        """Texts to count with tiktoken if the provider reports no usage (counted off the hot
        path by the flusher, then forgotten)."""
        if input_text:
            self.record.input_text = input_text
        if output_text:
            self.record.output_text = output_text

    def response_model(self, model: str) -> None:
        self.record.response_model = model or ""

    def fail(self, error_type: str) -> None:
        """Mark the call failed when no exception escapes the span (a fallback, a refusal)."""
        self.error_type = error_type or "error"

    def set(self, key: str, value) -> None:
        """An extra attribute (an OTel name, such as `server.address`)."""
        self.record.attributes[key] = value

    def _finish(self, exc: BaseException | None) -> CallRecord:
        ended = time.perf_counter()
        record = self.record
        record.duration_ms = round((ended - self._started) * 1000, 3)
        if self._first_token_at is not None:
            record.ttft_ms = round((self._first_token_at - self._started) * 1000, 3)
        if exc is not None:
            record.outcome, record.error_type = "error", type(exc).__name__
        elif self.error_type:
            record.outcome, record.error_type = "error", self.error_type
        return record


@contextlib.contextmanager
def span(
    *,
    operation: str,
    provider: str,
    model: str = "",
    feature: str | None = None,
    tenant_type: str | None = None,
    tenant_id: str | None = None,
) -> Iterator[Call]:
    """Time one call; on exit record duration, outcome and error type (an escaping exception's
    class name), with the tenant and feature of the current `context()` unless given here."""
    scope = _scope.get()
    call = Call(
        CallRecord(
            operation=operation,
            provider=provider,
            request_model=model or "",
            started_at=time.time(),
            duration_ms=0.0,
            tenant_type=tenant_type if tenant_type is not None else scope.tenant_type,
            tenant_id=str(tenant_id) if tenant_id is not None else scope.tenant_id,
            feature=feature if feature is not None else scope.feature,
        )
    )
    try:
        yield call
    except BaseException as exc:
        _record(call._finish(exc), scope.held)
        raise
    _record(call._finish(None), scope.held)


def _record(record: CallRecord, held: Held | None) -> None:
    if not settings.TELEMETRY_ENABLED:
        return
    if held is not None and held.add(record):
        return
    _deliver(record)


# -- delivery: subscribers and the flusher's buffer --------------------------------------------

_subscribers: list[Callable[[CallRecord], None]] = []
_sink: Callable[[CallRecord], None] | None = None


def subscribe(callback: Callable[[CallRecord], None]) -> Callable[[], None]:
    """Call `callback(record)` in-process for each finished span, once it is released (it runs
    where the span ended, often the event loop: keep it cheap). Returns the unsubscriber."""
    _subscribers.append(callback)

    def unsubscribe() -> None:
        with contextlib.suppress(ValueError):
            _subscribers.remove(callback)

    return unsubscribe


def sink_set(sink: Callable[[CallRecord], None] | None) -> None:
    """Where delivered records go to be stored (the recorder's buffer)."""
    global _sink
    _sink = sink


def _deliver(record: CallRecord) -> None:
    for callback in tuple(_subscribers):
        try:
            callback(record)
        except Exception:
            logger.exception("Telemetry subscriber %r failed", callback)
    if _sink is not None:
        _sink(record)
