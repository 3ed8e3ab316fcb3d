"""LLM tokens by model and feature, for /metrics, from the telemetry spans of this process."""

import logging

from chatplatform.monitoring.metrics import LLM_TOKENS

logger = logging.getLogger(__name__)


def _field(record, *names: str):
    for name in names:
        value = record.get(name) if isinstance(record, dict) else getattr(record, name, None)
        if value not in (None, ""):
            return value
    return None


def tokens_count(record) -> None:
    """Add a finished span's tokens to the counter (a telemetry subscriber: it must not raise)."""
    try:
        model = _field(record, "request_model", "model", "response_model") or "unknown"
        feature = _field(record, "feature") or "unknown"
        for kind in ("input", "output"):
            tokens = _field(record, f"{kind}_tokens")
            if tokens:
                LLM_TOKENS.labels(str(model), str(feature), kind).inc(int(tokens))
    except Exception:
        logger.exception("Could not count a span's tokens")


def subscribe() -> bool:
    """Follow the telemetry spans, if the telemetry app is there."""
    try:
        from chatplatform import telemetry
    except ImportError:
        return False
    subscribe_fn = getattr(telemetry, "subscribe", None)
    if subscribe_fn is None:
        return False
    subscribe_fn(tokens_count)
    return True
