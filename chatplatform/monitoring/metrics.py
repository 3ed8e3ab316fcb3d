"""The platform's Prometheus metrics, counted in every process (web, worker, beat).

prometheus-client runs in multiprocess mode: each process writes its values to files in
PROMETHEUS_MULTIPROC_DIR (set by settings before this module loads) and /metrics adds them up, so
the figures are right across several daphne and worker processes. Updating one is a few
microseconds and no I/O beyond a memory map: safe on the chat's hot path.
"""

from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram, values

# prometheus-client picks its value store when first imported: if something imported it before
# settings named the folder, switch to the multiprocess store before any metric exists.
if settings.PROMETHEUS_MULTIPROC_DIR and not getattr(values.ValueClass, "_multiprocess", False):
    values.ValueClass = values.get_value_class()

HTTP_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
TTFT_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30)

HTTP_REQUEST_SECONDS = Histogram(
    "chatplatform_http_request_duration_seconds",
    "HTTP request latency by route (the URL pattern's name), method and status code.",
    ["route", "method", "status"],
    buckets=HTTP_LATENCY_BUCKETS,
)
OPEN_WEBSOCKETS = Gauge(
    "chatplatform_open_websockets",
    "Chat websockets open now, across the web processes.",
    multiprocess_mode="livesum",
)
ACTIVE_STREAMS = Gauge(
    "chatplatform_active_streams",
    "Answers being generated now, across the web processes.",
    multiprocess_mode="livesum",
)
ANSWERS = Counter("chatplatform_answers", "Answers that ended, by final status.", ["status"])
TTFT_SECONDS = Histogram(
    "chatplatform_ttft_seconds",
    "Time from the question to the answer's first token.",
    buckets=TTFT_BUCKETS,
)
LLM_TOKENS = Counter(
    "chatplatform_llm_tokens",
    "LLM tokens by model, feature and kind (input or output).",
    ["model", "feature", "kind"],
)
