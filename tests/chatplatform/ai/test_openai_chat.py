import asyncio
import dataclasses
import time

import pytest

from chatplatform.ai import get_chat_provider
from chatplatform.ai.base import ProviderError, Usage
from chatplatform.ai.openai import OpenAIChatProvider
from chatplatform.ai.request_gate import notify_when_written
from tests.chatplatform.ai.conftest import chat_request
from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("openai_settings")


async def read_all(stream) -> list[str]:
    return [delta async for delta in stream]


async def read_until_error(stream) -> tuple[list[str], ProviderError | None]:
    """The deltas read before the stream failed, and the error."""
    deltas: list[str] = []
    while True:
        try:
            deltas.append(await anext(stream))
        except StopAsyncIteration:
            return deltas, None
        except ProviderError as exc:
            return deltas, exc


async def test_it_streams_tokens_and_captures_usage(openai_server: FakeOpenAIServer):
    openai_server.script(tokens=["Vi", " sender", " til", " Bornholm."], usage=(120, 4))
    provider = get_chat_provider()
    request = chat_request("Sender I til Bornholm?", language="da")

    stream = provider.stream_chat(request)
    deltas = await read_all(stream)

    assert isinstance(provider, OpenAIChatProvider)
    assert deltas == ["Vi", " sender", " til", " Bornholm."]
    assert stream.usage == Usage(prompt_tokens=120, completion_tokens=4)
    [sent] = openai_server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {openai_server.api_key}"
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["messages"] == request.messages
    assert sent.body["model"] == "gpt-4o-mini"
    assert sent.body["max_tokens"] == 600
    assert sent.body["temperature"] == 0.2


async def test_it_uses_the_model_of_the_request(openai_server: FakeOpenAIServer, settings):
    settings.OPENAI_CHAT_MODEL = "gpt-4.1-mini"
    request = chat_request("Hi")
    await OpenAIChatProvider().stream_chat(request).collect()
    await OpenAIChatProvider().stream_chat(dataclasses.replace(request, model="o-custom")).collect()

    assert [sent.body["model"] for sent in openai_server.requests] == ["gpt-4.1-mini", "o-custom"]


async def test_it_sends_nothing_until_the_stream_is_read(openai_server: FakeOpenAIServer):
    stream = OpenAIChatProvider().stream_chat(chat_request("Hi"))
    await asyncio.sleep(0.05)
    assert openai_server.requests == []
    await stream.aclose()
    assert openai_server.requests == []


async def test_it_retries_a_500_before_the_stream_starts(openai_server: FakeOpenAIServer, settings):
    settings.OPENAI_MAX_RETRIES = 2
    openai_server.script(Reply(status=500, headers={"retry-after-ms": "10"}), "Recovered.")

    answer = await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    assert answer == "Recovered."
    assert openai_server.wait_for_outcome(1) == "completed"
    assert openai_server.requests[0].outcome == "rejected"


async def test_a_persistent_500_is_provider_unavailable(openai_server: FakeOpenAIServer):
    openai_server.script(status=500)

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    assert caught.value.code == "provider_unavailable"
    assert caught.value.retryable is True
    assert caught.value.status_code == 500


async def test_an_unreachable_provider_is_provider_unavailable(settings):
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    assert caught.value.code == "provider_unavailable"


async def test_a_wrong_key_is_provider_auth_failed_and_the_message_hides_the_key(settings):
    settings.OPENAI_API_KEY = "sk-wrong-0123456789-secret-9876"

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    assert caught.value.code == "provider_auth_failed"
    assert caught.value.retryable is False
    assert "9876" not in caught.value.message
    assert "sk-" not in str(caught.value)


async def test_a_missing_key_is_provider_auth_failed(settings, openai_server: FakeOpenAIServer):
    settings.OPENAI_API_KEY = ""

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    assert caught.value.code == "provider_auth_failed"
    assert openai_server.requests == []


@pytest.mark.parametrize(
    ("error_code", "retryable"), [("rate_limit_exceeded", True), ("insufficient_quota", False)]
)
async def test_429_is_provider_rate_limited_with_the_retry_after(
    openai_server: FakeOpenAIServer, error_code: str, retryable: bool
):
    openai_server.script(status=429, error_code=error_code, headers={"retry-after": "7"})

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    assert caught.value.code == "provider_rate_limited"
    assert caught.value.retryable is retryable
    assert caught.value.retry_after == 7
    assert error_code in caught.value.message


async def test_a_hanging_provider_is_provider_timeout(openai_server: FakeOpenAIServer, settings):
    settings.OPENAI_TIMEOUT_SECONDS = 0.3
    openai_server.script(hang=5)

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    # A normal reply would follow the hang: the error can only be the client's own timeout.
    assert caught.value.code == "provider_timeout"
    assert caught.value.retryable is True


async def test_a_stream_that_stalls_mid_answer_is_provider_timeout(openai_server: FakeOpenAIServer, settings):
    settings.OPENAI_TIMEOUT_SECONDS = 0.3
    openai_server.script("One two three", interval=2)

    deltas, error = await read_until_error(OpenAIChatProvider().stream_chat(chat_request("Hi")))

    assert deltas == ["One"]
    assert error is not None
    assert error.code == "provider_timeout"


async def test_a_stream_cut_mid_way_is_provider_stream_interrupted_after_the_first_tokens(
    openai_server: FakeOpenAIServer,
):
    openai_server.script("One two three four", cut_after=2)

    deltas, error = await read_until_error(OpenAIChatProvider().stream_chat(chat_request("Hi")))

    assert deltas == ["One", " two"]
    assert error is not None
    assert error.code == "provider_stream_interrupted"
    assert error.retryable is True


async def test_aclose_stops_the_stream_and_closes_the_connection(openai_server: FakeOpenAIServer):
    openai_server.script(tokens=[f" word{number}" for number in range(200)], interval=0.02)
    stream = OpenAIChatProvider().stream_chat(chat_request("Hi"))
    first = [await anext(stream), await anext(stream)]

    await stream.aclose()

    assert first == [" word0", " word1"]
    assert await read_all(stream) == []
    assert openai_server.wait_for_outcome() == "client_disconnected"


async def test_aclose_from_another_task_ends_the_reading_loop(openai_server: FakeOpenAIServer):
    # Tokens far apart, so that none follows "First" before the close however busy the machine.
    openai_server.script(tokens=["First"] + [f" word{number}" for number in range(100)], interval=3)
    stream = OpenAIChatProvider().stream_chat(chat_request("Hi"))
    deltas: list[str] = []
    first_arrived = asyncio.Event()

    async def reader() -> str:
        async for delta in stream:
            deltas.append(delta)
            first_arrived.set()
        return "ended"

    task = asyncio.create_task(reader())
    await asyncio.wait_for(first_arrived.wait(), 10)
    # The reader ran on to its next read before this task resumed: it is waiting for a token.
    await stream.aclose()

    assert await asyncio.wait_for(task, 10) == "ended"
    assert deltas == ["First"]
    # The server notices at its next write, one interval on.
    assert openai_server.wait_for_outcome(timeout=10) == "client_disconnected"


async def test_cancelling_the_reading_task_still_cancels_it(openai_server: FakeOpenAIServer):
    openai_server.script(tokens=[f" word{number}" for number in range(100)], interval=0.1)
    stream = OpenAIChatProvider().stream_chat(chat_request("Hi"))

    reading = asyncio.Event()

    async def reader() -> None:
        async for _ in stream:
            reading.set()

    task = asyncio.create_task(reader())
    await asyncio.wait_for(reading.wait(), 10)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert openai_server.wait_for_outcome() == "client_disconnected"


async def test_it_re_asks_once_when_the_json_is_invalid(openai_server: FakeOpenAIServer):
    openai_server.script("Sure! The topic is Levering.", '{"topic": "Levering", "score": 4}')

    result = await OpenAIChatProvider().complete_json(
        system="Classify the conversation.", user="Hvor er min pakke?"
    )

    assert result == {"topic": "Levering", "score": 4}
    first, second = (sent.body for sent in openai_server.requests)
    assert first["response_format"] == {"type": "json_object"}
    assert "JSON" in first["messages"][0]["content"]  # JSON mode requires the word in the prompt
    assert second["messages"][2] == {"role": "assistant", "content": "Sure! The topic is Levering."}
    assert second["messages"][3]["role"] == "user"


async def test_it_gives_up_when_the_json_stays_invalid(openai_server: FakeOpenAIServer):
    openai_server.script("not json", "[1, 2, 3]")

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().complete_json(system="Reply in JSON.", user="Hi")

    assert caught.value.code == "provider_bad_response"
    assert len(openai_server.requests) == 2


async def test_json_mode_errors_are_provider_errors(openai_server: FakeOpenAIServer):
    openai_server.script(status=503)

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().complete_json(system="Reply in JSON.", user="Hi")

    assert caught.value.code == "provider_unavailable"


async def test_an_answer_is_told_once_its_request_has_been_written_before_the_first_token(
    openai_server: FakeOpenAIServer,
):
    openai_server.script("Vi sender.", first_token_delay=0.5)
    written: list[float] = []

    async def answer() -> str:
        notify_when_written(lambda: written.append(time.monotonic()))
        return await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    task = asyncio.create_task(answer())
    await until(lambda: written)
    assert not task.done()  # the first token is still half a second away

    assert await task == "Vi sender."
    assert len(written) == 1


async def test_each_attempt_of_a_retried_request_says_it_was_written(
    openai_server: FakeOpenAIServer, settings
):
    settings.OPENAI_MAX_RETRIES = 1
    openai_server.script(Reply(status=500, headers={"retry-after-ms": "10"}), "Recovered.")
    written: list[str] = []

    async def answer() -> str:
        notify_when_written(lambda: written.append("written"))
        return await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    assert await asyncio.create_task(answer()) == "Recovered."
    assert written == ["written", "written"]


async def test_a_request_that_is_never_written_never_says_so(settings):
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens there
    written: list[str] = []

    async def answer() -> None:
        notify_when_written(lambda: written.append("written"))
        await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    with pytest.raises(ProviderError):
        await asyncio.create_task(answer())
    assert written == []
