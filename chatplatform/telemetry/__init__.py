"""Telemetry of every call to an AI provider or external system (`chatplatform.telemetry`).

    with telemetry.context(tenant_type="chatbot", tenant_id="nordvin", feature="answer"):
        with telemetry.span(operation="chat", provider="openai", model="gpt-4o-mini") as call:
            call.first_token()
            call.usage(input_tokens=12, output_tokens=40)

See docs/operations.md, "Telemetry".
"""

from chatplatform.telemetry.spans import (
    FEATURES,
    OPERATIONS,
    Call,
    CallRecord,
    Held,
    context,
    span,
    subscribe,
)


def flush_now(timeout: float = 30.0) -> bool:
    """Write the buffered records now and wait until they are written (tests, management)."""
    from chatplatform.telemetry.recorder import recorder

    return recorder.flush_now(timeout)


__all__ = [
    "FEATURES",
    "OPERATIONS",
    "Call",
    "CallRecord",
    "Held",
    "context",
    "flush_now",
    "span",
    "subscribe",
]
