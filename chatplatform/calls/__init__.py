"""Shared utilities for calls to providers and external systems.

Every AI, vector-store and commerce call goes through `invoke`/`ainvoke` (a telemetry span,
failure classification and bounded retries of transient failures); `json_retry.ask_json` re-asks
an LLM that returned invalid JSON; `batch.run_bounded` runs batches with bounded concurrency;
`cache.namespaced_cache` is a TTL cache whose namespaces are invalidated across processes.
"""

from chatplatform.calls.failures import CallFailed, FailureKind, classify_failure
from chatplatform.calls.invoke import ainvoke, invoke

__all__ = ["CallFailed", "FailureKind", "ainvoke", "classify_failure", "invoke"]
