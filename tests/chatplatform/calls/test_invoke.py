import pytest

from chatplatform.ai.base import ProviderError
from chatplatform.calls import CallFailed, FailureKind, ainvoke, invoke
from tracking.clients.base import OrderClientError


class Flaky:
    """Fails with each of `errors` in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def unavailable(**kwargs) -> ProviderError:
    return ProviderError("provider_unavailable", "down", status_code=503, **kwargs)


def test_it_retries_a_transient_failure_and_records_one_span(spans):
    flaky, sleeps = Flaky(unavailable(), unavailable()), Sleeps()

    result = invoke(flaky, operation="vision", provider="openai", model="gpt-4o", retries=2, sleep=sleeps)

    assert result == "ok"
    assert flaky.calls == 3
    assert len(sleeps.delays) == 2
    [span] = spans
    assert (span.operation, span.provider, span.request_model, span.outcome) == (
        "vision",
        "openai",
        "gpt-4o",
        "ok",
    )


def test_it_gives_up_after_the_retries_with_the_calls_own_error(spans):
    flaky = Flaky(*[unavailable() for _ in range(5)])

    with pytest.raises(ProviderError) as caught:
        invoke(flaky, operation="vision", provider="openai", retries=2, sleep=Sleeps())

    assert caught.value.code == "provider_unavailable"
    assert flaky.calls == 3
    [span] = spans
    assert (span.outcome, span.error_type) == ("error", "ProviderError")
    assert span.attributes["error.code"] == "provider_unavailable"
    assert span.attributes["failure.kind"] == "transient"
    assert span.attributes["attempts"] == 3


@pytest.mark.parametrize(
    "error",
    [
        ProviderError("provider_auth_failed", "key", status_code=401),
        ProviderError("provider_bad_response", "bad image", status_code=400),
        ValueError("bad input"),
    ],
)
def test_it_does_not_retry_what_waiting_cannot_fix(error, spans):
    flaky = Flaky(error)

    with pytest.raises(type(error)):
        invoke(flaky, operation="json", provider="openai", retries=5, sleep=Sleeps())

    assert flaky.calls == 1


def test_no_retries_means_one_attempt():
    flaky = Flaky(unavailable())

    with pytest.raises(ProviderError):
        invoke(flaky, operation="embeddings", provider="openai", retries=0, sleep=Sleeps())

    assert flaky.calls == 1


def test_it_waits_at_least_the_retry_after_but_never_past_its_cap():
    sleeps = Sleeps()
    flaky = Flaky(unavailable(retry_after=3.0), unavailable(retry_after=500.0))

    invoke(flaky, operation="vision", provider="openai", retries=2, backoff=0.001, sleep=sleeps)

    assert sleeps.delays[0] >= 3.0
    assert sleeps.delays[1] == 30.0


def test_it_gives_up_when_waiting_would_break_the_budget():
    now = [0.0]
    flaky = Flaky(unavailable(retry_after=5.0), unavailable())

    with pytest.raises(ProviderError):
        invoke(
            flaky,
            operation="commerce",
            provider="shopify",
            retries=3,
            budget=4.0,
            sleep=Sleeps(),
            clock=lambda: now[0],
        )

    assert flaky.calls == 1


def test_a_marked_failure_raises_the_error_it_carries():
    error = OrderClientError("order_rate_limited", "Shopify is throttling.")
    flaky = Flaky(*[CallFailed(FailureKind.TRANSIENT, error, retry_after=0.0) for _ in range(3)])

    with pytest.raises(OrderClientError) as caught:
        invoke(flaky, operation="commerce", provider="shopify", retries=1, backoff=0, sleep=Sleeps())

    assert caught.value is error
    assert flaky.calls == 2


def test_on_result_fills_the_span(spans):
    def record(call, result):
        call.usage(input_tokens=10, output_tokens=2)
        call.response_model("gpt-4o-2024-08-06")

    invoke(lambda: "done", operation="json", provider="openai", model="gpt-4o", on_result=record)

    [span] = spans
    assert (span.input_tokens, span.output_tokens, span.response_model) == (10, 2, "gpt-4o-2024-08-06")
    assert span.usage_estimated is False


async def test_ainvoke_retries_with_the_same_policy(spans):
    flaky = Flaky(unavailable())
    sleeps: list[float] = []

    async def call():
        return flaky()

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    assert await ainvoke(call, operation="vision", provider="openai", retries=1, sleep=sleep) == "ok"
    assert flaky.calls == 2
    assert len(sleeps) == 1
    assert [span.outcome for span in spans] == ["ok"]
