"""The provider request of a task reports when it has left, through the real SDK and HTTP stack."""

import pytest

from chatplatform.ai import get_chat_provider
from chatplatform.ai.base import ProviderError
from chatplatform.ai.request_sent import on_request_sent
from tests.chatplatform.ai.conftest import chat_request
from tests.fakes.openai_server import FakeOpenAIServer, Reply

pytestmark = pytest.mark.usefixtures("openai_settings")


async def test_the_callback_runs_once_the_request_is_written_before_any_token_arrives(
    openai_server: FakeOpenAIServer,
):
    openai_server.script(Reply(tokens=["Ja", "."], first_token_delay=0.3))
    events: list[str] = []

    with on_request_sent(lambda: events.append("sent")):
        events.extend([delta async for delta in get_chat_provider().stream_chat(chat_request("Sender I?"))])

    assert events == ["sent", "Ja", "."]


async def test_only_the_first_request_of_the_block_reports(openai_server: FakeOpenAIServer):
    openai_server.script("Et.", "To.")
    events: list[str] = []

    with on_request_sent(lambda: events.append("sent")):
        for question in ("Et?", "To?"):
            events.extend([delta async for delta in get_chat_provider().stream_chat(chat_request(question))])

    assert events == ["sent", "Et.", "To."]


async def test_a_request_that_fails_still_reports(openai_server: FakeOpenAIServer):
    openai_server.script(Reply(status=503))
    events: list[str] = []

    with on_request_sent(lambda: events.append("sent")), pytest.raises(ProviderError):
        async for _ in get_chat_provider().stream_chat(chat_request("Hallo?")):
            pass

    assert events == ["sent"]


async def test_without_a_callback_nothing_is_traced(openai_server: FakeOpenAIServer):
    openai_server.script("Hej.")

    deltas = [delta async for delta in get_chat_provider().stream_chat(chat_request("Hej?"))]

    assert deltas == ["Hej."]
