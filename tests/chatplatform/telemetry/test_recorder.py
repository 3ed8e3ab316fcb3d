"""The flusher: batches written on its own connection, tiktoken estimates, failures counted."""

import pytest
from celery.signals import worker_process_shutdown

import chatplatform.celery  # noqa: F401  (connects the worker's signal handlers)
from chatplatform import telemetry
from chatplatform.llm_tokens import count_tokens
from chatplatform.telemetry.models import CallRecord
from chatplatform.telemetry.recorder import recorder

pytestmark = pytest.mark.django_db(transaction=True)


def test_flush_now_writes_the_records_with_their_otel_attributes():
    with (
        telemetry.context(tenant_type="chatbot", tenant_id="nordvin", feature="answer"),
        telemetry.span(operation="chat", provider="openai", model="gpt-4o-mini") as call,
    ):
        call.first_token()
        call.usage(input_tokens=120, output_tokens=33)
        call.response_model("gpt-4o-mini-2024-07-18")

    assert telemetry.flush_now()

    row = CallRecord.objects.get()
    assert (row.operation, row.provider, row.request_model, row.response_model) == (
        "chat",
        "openai",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
    )
    assert (row.input_tokens, row.output_tokens, row.usage_estimated) == (120, 33, False)
    assert (row.tenant_type, row.tenant_id, row.feature) == ("chatbot", "nordvin", "answer")
    assert row.outcome == "ok"
    assert row.ttft_ms is not None
    assert row.day == row.started_at.date()
    assert row.attributes["gen_ai.operation.name"] == "chat"
    assert row.attributes["gen_ai.provider.name"] == "openai"
    assert row.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert row.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert row.attributes["gen_ai.usage.input_tokens"] == 120
    assert row.attributes["gen_ai.usage.output_tokens"] == 33
    assert row.attributes["chatplatform.feature"] == "answer"


def test_tokens_are_counted_with_tiktoken_only_when_the_provider_reports_none():
    question, answer = "How long does delivery take?", "One to three working days with GLS."
    with telemetry.span(operation="chat", provider="local", model="local") as call:
        call.estimate_from(input_text=question, output_text=answer)
    with telemetry.span(operation="chat", provider="openai", model="gpt-4o-mini") as call:
        call.estimate_from(input_text=question, output_text=answer)
        call.usage(input_tokens=99, output_tokens=7)

    telemetry.flush_now()

    estimated = CallRecord.objects.get(provider="local")
    reported = CallRecord.objects.get(provider="openai")
    assert (estimated.input_tokens, estimated.output_tokens) == (count_tokens(question), count_tokens(answer))
    assert estimated.usage_estimated is True
    assert (reported.input_tokens, reported.output_tokens, reported.usage_estimated) == (99, 7, False)
    assert reported.attributes["chatplatform.usage.estimated"] is False


def test_errors_are_written_with_their_type():
    with pytest.raises(ConnectionError), telemetry.span(operation="commerce", provider="shopify"):
        raise ConnectionError

    telemetry.flush_now()

    row = CallRecord.objects.get()
    assert (row.outcome, row.error_type) == ("error", "ConnectionError")
    assert row.attributes["error.type"] == "ConnectionError"


def test_many_records_go_in_batches(monkeypatch):
    batches = []
    write = recorder._write
    monkeypatch.setattr(recorder, "_write", lambda batch: (batches.append(len(batch)), write(batch)))

    for _ in range(1200):
        with telemetry.span(operation="embeddings", provider="local"):
            pass
    telemetry.flush_now()

    assert CallRecord.objects.count() == 1200
    assert max(batches) <= 500
    assert sum(batches) == 1200


def test_a_batch_that_cannot_be_written_is_counted_and_the_flusher_goes_on(monkeypatch):
    failed_before = recorder.failed

    def refuse(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(CallRecord.objects, "bulk_create", refuse)
    with telemetry.span(operation="chat", provider="openai"):
        pass
    telemetry.flush_now()
    monkeypatch.undo()
    with telemetry.span(operation="chat", provider="openai"):
        pass
    telemetry.flush_now()

    assert recorder.failed - failed_before == 1
    assert CallRecord.objects.count() == 1


def test_close_flushes_what_is_left():
    with telemetry.span(operation="job", provider="celery"):
        pass

    recorder.close()

    assert CallRecord.objects.count() == 1
    # The next record starts a new flusher.
    with telemetry.span(operation="job", provider="celery"):
        pass
    telemetry.flush_now()
    assert CallRecord.objects.count() == 2


def test_a_worker_child_that_shuts_down_writes_its_buffered_records_first():
    with telemetry.span(operation="embeddings", provider="openai", model="text-embedding-3-small"):
        pass
    assert recorder.pending() == 1

    worker_process_shutdown.send(sender=None, pid=1, exitcode=0)

    assert recorder.pending() == 0
    assert CallRecord.objects.get().operation == "embeddings"


def test_with_an_interval_of_0_nothing_is_written_until_asked_even_a_full_batch():
    for _ in range(600):
        with telemetry.span(operation="vector_query", provider="local"):
            pass

    assert recorder.pending() == 600  # no batch went out on its own
    assert CallRecord.objects.count() == 0
    assert telemetry.flush_now()
    assert CallRecord.objects.count() == 600
