"""The OTLP/HTTP export, against a receiver on 127.0.0.1 that decodes the protobuf bodies."""

import pytest

from chatplatform import telemetry
from chatplatform.telemetry import otlp
from chatplatform.telemetry.recorder import recorder
from tests.chatplatform.telemetry.otlp_receiver import OtlpReceiver, attributes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    with OtlpReceiver() as running:
        yield running


@pytest.fixture
def exporter(settings, receiver):
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url
    exporter = otlp.exporter_setup()
    yield exporter
    recorder.exporters.remove(exporter)
    exporter.shutdown()


def test_nothing_is_exported_without_an_endpoint(settings):
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = ""

    assert otlp.exporter_setup() is None


def test_spans_and_metrics_reach_the_otlp_endpoint_with_genai_names(receiver, exporter):
    with (
        telemetry.context(tenant_type="chatbot", tenant_id="nordvin", feature="answer"),
        telemetry.span(operation="chat", provider="openai", model="gpt-4o-mini") as call,
    ):
        call.first_token()
        call.usage(input_tokens=120, output_tokens=33)
        call.response_model("gpt-4o-mini-2024-07-18")
    with pytest.raises(TimeoutError), telemetry.span(operation="embeddings", provider="openai"):
        raise TimeoutError

    telemetry.flush_now()
    assert exporter.force_flush()
    assert receiver.got_spans.wait(10)
    assert receiver.got_metrics.wait(10)

    spans = {span.name: span for span in receiver.spans}
    chat = spans["chat gpt-4o-mini"]
    assert chat.kind == chat.SPAN_KIND_CLIENT
    chat_attributes = attributes(chat.attributes)
    assert chat_attributes["gen_ai.operation.name"] == "chat"
    assert chat_attributes["gen_ai.provider.name"] == "openai"
    assert chat_attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert chat_attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert chat_attributes["gen_ai.usage.input_tokens"] == 120
    assert chat_attributes["gen_ai.usage.output_tokens"] == 33
    assert chat_attributes["chatplatform.tenant.id"] == "nordvin"
    assert chat.end_time_unix_nano >= chat.start_time_unix_nano
    failed = spans["embeddings"]
    assert attributes(failed.attributes)["error.type"] == "TimeoutError"
    assert failed.status.code == failed.status.STATUS_CODE_ERROR
    assert attributes(receiver.resources[0].attributes)["service.name"] == "chatplatform"

    tokens = receiver.metrics["gen_ai.client.token.usage"].histogram.data_points
    by_type = {attributes(point.attributes)["gen_ai.token.type"]: point.sum for point in tokens}
    assert by_type == {"input": 120, "output": 33}
    durations = receiver.metrics["gen_ai.client.operation.duration"].histogram.data_points
    assert sum(point.count for point in durations) == 2
    assert "gen_ai.client.operation.time_to_first_chunk" in receiver.metrics
