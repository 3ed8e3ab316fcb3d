"""Export of the telemetry records over OTLP/HTTP, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

The flusher thread hands each written batch here; each record becomes a span (kind CLIENT, the
GenAI attribute names, its own start and end times) and feeds the GenAI client metrics. The
SDK's batch span processor and periodic metric reader send them on their own threads.
"""

from __future__ import annotations

import logging

from django.conf import settings

from chatplatform.telemetry.recorder import attributes_of, recorder
from chatplatform.telemetry.spans import CallRecord

logger = logging.getLogger(__name__)

SERVICE_NAME = "chatplatform"
# The semantic conventions' advised buckets for token counts.
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216]
DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]


class OtlpExporter:
    def __init__(self, endpoint: str, *, metric_interval_ms: int = 60_000) -> None:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        base = endpoint.rstrip("/")
        resource = Resource.create({"service.name": SERVICE_NAME})
        # Shut down by the recorder after its last flush, not by the SDK's own exit hook, which
        # would run first and lose that flush's spans.
        self.tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces"))
        )
        self.meter_provider = MeterProvider(
            resource=resource,
            metric_readers=[
                PeriodicExportingMetricReader(
                    OTLPMetricExporter(endpoint=f"{base}/v1/metrics"),
                    export_interval_millis=metric_interval_ms,
                )
            ],
            views=[
                View(
                    instrument_name="gen_ai.client.token.usage",
                    aggregation=ExplicitBucketHistogramAggregation(TOKEN_BUCKETS),
                ),
                View(
                    instrument_name="gen_ai.client.operation.*",
                    aggregation=ExplicitBucketHistogramAggregation(DURATION_BUCKETS),
                ),
            ],
            shutdown_on_exit=False,
        )
        self.tracer = self.tracer_provider.get_tracer("chatplatform.telemetry")
        meter = self.meter_provider.get_meter("chatplatform.telemetry")
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="Input and output tokens used."
        )
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration", unit="s", description="Duration of the call."
        )
        self.time_to_first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to the first chunk of a streamed response.",
        )

    def export(self, batch: list[CallRecord]) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        for record in batch:
            attributes = attributes_of(record)
            start_ns = int(record.started_at * 1e9)
            span = self.tracer.start_span(
                f"{record.operation} {record.request_model}".strip(),
                kind=SpanKind.CLIENT,
                start_time=start_ns,
                attributes=attributes,
            )
            if record.outcome == "error":
                span.set_status(Status(StatusCode.ERROR, record.error_type))
            span.end(end_time=start_ns + int(record.duration_ms * 1e6))
            metric_attributes = _metric_attributes(record)
            self.duration.record(record.duration_ms / 1000, metric_attributes)
            if record.ttft_ms is not None:
                self.time_to_first_chunk.record(record.ttft_ms / 1000, metric_attributes)
            for kind, tokens in (("input", record.input_tokens), ("output", record.output_tokens)):
                if tokens is not None:
                    self.token_usage.record(tokens, {**metric_attributes, "gen_ai.token.type": kind})

    def force_flush(self, timeout_ms: int = 10_000) -> bool:
        spans = self.tracer_provider.force_flush(timeout_ms)
        metrics = self.meter_provider.force_flush(timeout_ms)
        return bool(spans and metrics)

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def _metric_attributes(record: CallRecord) -> dict:
    # Low cardinality only: no tenant id (learners are many).
    attributes = {"gen_ai.operation.name": record.operation, "gen_ai.provider.name": record.provider}
    if record.request_model:
        attributes["gen_ai.request.model"] = record.request_model
    if record.response_model:
        attributes["gen_ai.response.model"] = record.response_model
    if record.error_type:
        attributes["error.type"] = record.error_type
    if record.feature:
        attributes["chatplatform.feature"] = record.feature
    if record.tenant_type:
        attributes["chatplatform.tenant.type"] = record.tenant_type
    return attributes


def exporter_setup(endpoint: str | None = None) -> OtlpExporter | None:
    """Attach an OTLP exporter to the recorder when an endpoint is configured."""
    endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT if endpoint is None else endpoint
    if not endpoint:
        return None
    exporter = OtlpExporter(endpoint)
    recorder.exporters.append(exporter)
    logger.info("Telemetry: exporting spans and metrics over OTLP/HTTP")
    return exporter
