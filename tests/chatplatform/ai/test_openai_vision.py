import base64

import pytest

from chatplatform.ai.base import ProviderError
from chatplatform.ai.openai import OpenAIChatProvider
from tests.fakes.openai_server import FakeOpenAIServer, Reply

pytestmark = pytest.mark.usefixtures("openai_settings")


async def test_it_sends_the_image_as_a_data_url_content_part(
    openai_server: FakeOpenAIServer, make_image, settings
):
    settings.OPENAI_VISION_MODEL = "gpt-4o"
    image = make_image((200, 30, 30))
    openai_server.script("En knust flaske rødvin i en papkasse.")

    description = await OpenAIChatProvider().describe_image(
        image=image, mime_type="image/png", prompt="Describe the damage.", language="da"
    )

    assert description == "En knust flaske rødvin i en papkasse."
    [sent] = openai_server.requests
    assert sent.body["model"] == "gpt-4o"
    [message] = sent.body["messages"]
    text_part, image_part = message["content"]
    assert text_part["type"] == "text"
    assert "Describe the damage." in text_part["text"]
    assert "Danish" in text_part["text"]
    assert image_part["type"] == "image_url"
    prefix, encoded = image_part["image_url"]["url"].split(",", 1)
    assert prefix == "data:image/png;base64"
    assert base64.b64decode(encoded) == image


async def test_it_retries_the_vision_call_after_a_500(openai_server: FakeOpenAIServer, make_image):
    openai_server.script(Reply(status=500), "A red square.")

    description = await OpenAIChatProvider().describe_image(
        image=make_image((200, 30, 30)), mime_type="image/png", prompt="What is this?", language="en"
    )

    assert description == "A red square."
    assert openai_server.wait_for_outcome(1) == "completed"
    assert openai_server.requests[0].outcome == "rejected"


async def test_it_makes_at_most_three_vision_attempts(openai_server: FakeOpenAIServer, make_image, settings):
    settings.OPENAI_MAX_RETRIES = 2  # the SDK's own retries must not multiply the attempts
    openai_server.script(status=503, times=5)

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().describe_image(
            image=make_image((0, 0, 0)), mime_type="image/png", prompt="What is this?", language="en"
        )

    assert caught.value.code == "provider_unavailable"
    assert len(openai_server.requests) == 3


async def test_it_does_not_retry_a_refused_image(openai_server: FakeOpenAIServer, make_image):
    openai_server.script(status=400, error_code="invalid_image_format")

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().describe_image(
            image=b"not an image", mime_type="image/png", prompt="What is this?", language="en"
        )

    assert caught.value.code == "provider_bad_response"
    assert caught.value.retryable is False
    assert len(openai_server.requests) == 1
