"""The bounded buffer of finished calls and the thread that writes them in batches.

Appending is all the span API does. The flusher thread wakes every
`TELEMETRY_FLUSH_INTERVAL_SECONDS` (or when a batch is full, or on `flush_now()`), counts the
tokens the providers did not report, writes with one `bulk_create` per batch on its own database
connection (closed after each flush), and hands the batch to the OTLP exporter when one is set
up. A full buffer drops new records and counts them rather than growing.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from datetime import UTC, datetime

from django.conf import settings

from chatplatform.telemetry.spans import CallRecord

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# A failing database is reported at most this often, not once per flush.
_WARN_EVERY_SECONDS = 60.0


class Recorder:
    def __init__(self) -> None:
        self._items: deque[CallRecord] = deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()  # starting the thread, and the waiters of flush_now()
        self._waiters: list[threading.Event] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._last_warning = 0.0
        self.dropped = 0  # refused because the buffer was full
        self.failed = 0  # lost because their batch could not be written
        self.written = 0
        # Given each written batch on the flusher thread (`.export(batch)`), shut down after the
        # last flush (`.shutdown()`): the OTLP exporter.
        self.exporters: list = []

    # -- the hot path -------------------------------------------------------------------------

    def add(self, record: CallRecord) -> None:
        items = self._items
        if len(items) >= settings.TELEMETRY_BUFFER_MAX:
            self.dropped += 1
            return
        items.append(record)
        if self._thread is None:
            self._start()
        # An interval of 0 (the tests) writes only when asked: a thread writing on its own
        # connection in the middle of a test would lock SQLite's shared in-memory database.
        if len(items) >= BATCH_SIZE and settings.TELEMETRY_FLUSH_INTERVAL_SECONDS > 0:
            self._wake.set()

    # -- control ------------------------------------------------------------------------------

    def flush_now(self, timeout: float = 30.0) -> bool:
        """Write everything buffered so far and wait until it is written (tests, exit)."""
        done = threading.Event()
        with self._lock:
            self._waiters.append(done)
        self._start()
        self._wake.set()
        return done.wait(timeout)

    def discard(self) -> int:
        """Drop what is buffered (tests); returns how many records were dropped."""
        count = len(self._items)
        self._items.clear()
        return count

    def pending(self) -> int:
        return len(self._items)

    def close(self, timeout: float = 5.0) -> None:
        """Flush what is left and stop the thread (at process exit)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._stopping = True
            self._wake.set()
            thread.join(timeout)
        for exporter in tuple(self.exporters):
            try:
                exporter.shutdown()
            except Exception:
                logger.exception("Telemetry exporter shutdown failed")

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="telemetry-flusher", daemon=True)
            self._thread.start()

    def _after_fork_in_child(self) -> None:
        # The parent's thread does not exist here and its records are the parent's to write.
        self._items = deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._waiters = []
        self._thread = None
        self._stopping = False

    # -- the flusher thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            interval = settings.TELEMETRY_FLUSH_INTERVAL_SECONDS
            # An interval of 0 (the tests) flushes only when asked.
            self._wake.wait(interval if interval > 0 else None)
            self._wake.clear()
            with self._lock:
                waiters, self._waiters = self._waiters, []
            try:
                self._write_all()
            except Exception:
                logger.exception("Telemetry flush failed")
            finally:
                for waiter in waiters:
                    waiter.set()
            if self._stopping:
                return

    def _write_all(self) -> None:
        from django.db import connections

        try:
            while self._items:
                batch = []
                while self._items and len(batch) < BATCH_SIZE:
                    batch.append(self._items.popleft())
                self._write(batch)
        finally:
            # This thread's own connection goes back (to the pool) between flushes.
            connections.close_all()

    def _write(self, batch: list[CallRecord]) -> None:
        from chatplatform.telemetry.models import CallRecord as CallRecordRow

        for record in batch:
            _estimate_usage(record)
        try:
            CallRecordRow.objects.bulk_create([_row(record) for record in batch])
        except Exception as exc:
            self.failed += len(batch)
            now = time.monotonic()
            if now - self._last_warning > _WARN_EVERY_SECONDS:
                self._last_warning = now
                logger.warning(
                    "Telemetry: %d record(s) could not be written (%s); %d lost so far",
                    len(batch),
                    type(exc).__name__,
                    self.failed,
                )
        else:
            self.written += len(batch)
        for exporter in tuple(self.exporters):
            try:
                exporter.export(batch)
            except Exception:
                logger.exception("Telemetry export failed")


def _estimate_usage(record: CallRecord) -> None:
    """Count with tiktoken what the provider did not report, and mark it estimated."""
    if record.input_text or record.output_text:
        from chatplatform.llm_tokens import count_tokens

        if record.input_tokens is None and record.input_text:
            record.input_tokens = count_tokens(record.input_text)
            record.usage_estimated = True
        if record.output_tokens is None and record.output_text:
            record.output_tokens = count_tokens(record.output_text)
            record.usage_estimated = True
        record.input_text = record.output_text = ""


def attributes_of(record: CallRecord) -> dict:
    """The record under the OpenTelemetry GenAI names (and ours, `chatplatform.*`)."""
    attributes = {
        "gen_ai.operation.name": record.operation,
        "gen_ai.provider.name": record.provider,
    }
    if record.request_model:
        attributes["gen_ai.request.model"] = record.request_model
    if record.response_model:
        attributes["gen_ai.response.model"] = record.response_model
    if record.input_tokens is not None:
        attributes["gen_ai.usage.input_tokens"] = record.input_tokens
    if record.output_tokens is not None:
        attributes["gen_ai.usage.output_tokens"] = record.output_tokens
    if record.error_type:
        attributes["error.type"] = record.error_type
    if record.ttft_ms is not None:
        attributes["gen_ai.client.operation.time_to_first_chunk"] = record.ttft_ms / 1000
    attributes["chatplatform.usage.estimated"] = record.usage_estimated
    if record.tenant_type:
        attributes["chatplatform.tenant.type"] = record.tenant_type
        attributes["chatplatform.tenant.id"] = record.tenant_id
    if record.feature:
        attributes["chatplatform.feature"] = record.feature
    attributes.update(record.attributes)
    return attributes


def _row(record: CallRecord):
    from chatplatform.telemetry.models import CallRecord as CallRecordRow

    started = datetime.fromtimestamp(record.started_at, tz=UTC)
    return CallRecordRow(
        started_at=started,
        day=started.date(),
        operation=record.operation[:32],
        provider=record.provider[:64],
        request_model=record.request_model[:128],
        response_model=record.response_model[:128],
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        usage_estimated=record.usage_estimated,
        ttft_ms=record.ttft_ms,
        duration_ms=record.duration_ms,
        outcome=record.outcome,
        error_type=record.error_type[:128],
        tenant_type=record.tenant_type[:16],
        tenant_id=record.tenant_id[:128],
        feature=record.feature[:32],
        attributes=attributes_of(record),
    )


recorder = Recorder()
atexit.register(recorder.close)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=recorder._after_fork_in_child)
