"""A small OTLP/HTTP receiver on 127.0.0.1 that decodes the protobuf bodies it is sent."""

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

_KINDS = {
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
}


class OtlpReceiver:
    def __init__(self) -> None:
        self.spans = []  # opentelemetry.proto.trace.v1.Span
        self.metrics = {}  # name -> opentelemetry.proto.metrics.v1.Metric (the latest)
        self.resources = []
        self.got_spans = threading.Event()
        self.got_metrics = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                kind = _KINDS.get(self.path)
                if kind is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = kind[0]()
                request.ParseFromString(body)
                receiver._take(request)
                reply = kind[1]().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _take(self, request) -> None:
        if isinstance(request, ExportTraceServiceRequest):
            for resource_spans in request.resource_spans:
                self.resources.append(resource_spans.resource)
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend(scope_spans.spans)
            if self.spans:
                self.got_spans.set()
        else:
            for resource_metrics in request.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        self.metrics[metric.name] = metric
            if self.metrics:
                self.got_metrics.set()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def attributes(items) -> dict:
    """KeyValue list -> dict of plain values."""
    values = {}
    for item in items:
        value = item.value
        values[item.key] = getattr(value, value.WhichOneof("value"))
    return values
