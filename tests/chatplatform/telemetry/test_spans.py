"""The span API: what a span records, contexts, held records and subscribers."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from chatplatform import telemetry
from chatplatform.telemetry.recorder import recorder


def test_it_records_operation_provider_models_usage_and_duration(delivered):
    with telemetry.span(operation="chat", provider="openai", model="gpt-4o-mini") as call:
        call.first_token()
        call.usage(input_tokens=12, output_tokens=40)
        call.response_model("gpt-4o-mini-2024-07-18")

    (record,) = delivered
    assert (record.operation, record.provider) == ("chat", "openai")
    assert (record.request_model, record.response_model) == ("gpt-4o-mini", "gpt-4o-mini-2024-07-18")
    assert (record.input_tokens, record.output_tokens, record.usage_estimated) == (12, 40, False)
    assert record.outcome == "ok"
    assert record.error_type == ""
    assert record.duration_ms >= record.ttft_ms >= 0


def test_an_escaping_exception_is_an_error_with_its_class_name(delivered):
    with pytest.raises(TimeoutError), telemetry.span(operation="embeddings", provider="openai"):
        raise TimeoutError

    assert (delivered[0].outcome, delivered[0].error_type) == ("error", "TimeoutError")


def test_fail_marks_the_call_failed_without_an_exception(delivered):
    with telemetry.span(operation="json", provider="openai") as call:
        call.fail("invalid_json")

    assert (delivered[0].outcome, delivered[0].error_type) == ("error", "invalid_json")


def test_a_span_without_a_stream_has_no_time_to_first_token(delivered):
    with telemetry.span(operation="vector_query", provider="pinecone"):
        pass

    assert delivered[0].ttft_ms is None


def test_contexts_give_tenant_and_feature_and_nest(delivered):
    with telemetry.context(tenant_type="chatbot", tenant_id="nordvin", feature="answer"):
        with telemetry.context(feature="routing"), telemetry.span(operation="json", provider="openai"):
            pass
        with telemetry.span(operation="chat", provider="openai"):
            pass
    with telemetry.span(operation="chat", provider="openai"):
        pass

    assert [(r.tenant_type, r.tenant_id, r.feature) for r in delivered] == [
        ("chatbot", "nordvin", "routing"),
        ("chatbot", "nordvin", "answer"),
        ("", "", ""),
    ]


def test_a_span_may_name_its_own_feature(delivered):
    with (
        telemetry.context(feature="answer"),
        telemetry.span(operation="job", provider="celery", feature="job"),
    ):
        pass

    assert delivered[0].feature == "job"


async def test_contexts_follow_into_tasks_and_threads(delivered):
    def in_thread():
        with telemetry.span(operation="commerce", provider="shopify"):
            pass

    async def in_task():
        with telemetry.span(operation="embeddings", provider="local"):
            pass

    with telemetry.context(tenant_type="learner", tenant_id="42", feature="tutor"):
        await asyncio.get_running_loop().create_task(in_task())
        await sync_to_async(in_thread, thread_sensitive=False)()

    assert {(r.operation, r.tenant_id, r.feature) for r in delivered} == {
        ("embeddings", "42", "tutor"),
        ("commerce", "42", "tutor"),
    }


def test_a_held_context_delivers_nothing_until_released(delivered):
    with telemetry.context(feature="answer", hold=True) as held:
        with telemetry.span(operation="embeddings", provider="openai"):
            pass
        with telemetry.span(operation="vector_query", provider="local"):
            pass
        assert delivered == []
        assert recorder.pending() == 0

        held.release()
        assert [r.operation for r in delivered] == ["embeddings", "vector_query"]
        assert recorder.pending() == 2

        with telemetry.span(operation="chat", provider="openai"):
            pass
        assert [r.operation for r in delivered] == ["embeddings", "vector_query", "chat"]


def test_a_held_context_releases_on_exit_even_after_an_error(delivered):
    seen_inside = []

    def answer():
        with telemetry.context(feature="answer", hold=True):
            with telemetry.span(operation="embeddings", provider="openai"):
                pass
            seen_inside.extend(delivered)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        answer()

    assert seen_inside == []
    assert [r.operation for r in delivered] == ["embeddings"]


def test_records_finishing_on_threads_during_release_are_not_lost(delivered):
    go = threading.Event()

    def worker():
        go.wait()
        for _ in range(200):
            with telemetry.span(operation="commerce", provider="magento"):
                pass

    with telemetry.context(hold=True) as held:
        workers = [threading.Thread(target=_in_context(worker)) for _ in range(3)]
        for t in workers:
            t.start()
        go.set()
        held.release()
        for t in workers:
            t.join()

    assert len(delivered) == 600


def _in_context(fn):
    import contextvars

    context = contextvars.copy_context()
    return lambda: context.run(fn)


def test_a_failing_subscriber_does_not_stop_the_others(delivered):
    def broken(record):
        raise ValueError("subscriber bug")

    unsubscribe = telemetry.subscribe(broken)
    try:
        with telemetry.span(operation="chat", provider="openai"):
            pass
    finally:
        unsubscribe()

    assert len(delivered) == 1


def test_nothing_is_recorded_when_telemetry_is_disabled(delivered, settings):
    settings.TELEMETRY_ENABLED = False

    with telemetry.span(operation="chat", provider="openai"):
        pass

    assert delivered == []
    assert recorder.pending() == 0


def test_a_full_buffer_drops_and_counts_rather_than_grows(settings):
    settings.TELEMETRY_BUFFER_MAX = 5
    dropped_before = recorder.dropped

    for _ in range(8):
        with telemetry.span(operation="embeddings", provider="local"):
            pass

    assert recorder.pending() == 5
    assert recorder.dropped - dropped_before == 3
