"""Descriptions by the `openai` provider through the real SDK, against the tests' OpenAI-compatible
server: the stored image arrives as an image content part, transient failures are retried, and a
description that fails for good leaves a usable upload."""

import base64

import pytest

from conversations.images.services import image_upload_create
from conversations.models import ImageUpload, PromptTemplate
from tests.conversations.images.conftest import URL, sample, upload
from tests.fakes.openai_server import FakeOpenAIServer, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("openai_settings")]


def image_part(request) -> tuple[str, bytes]:
    """The MIME type and bytes of the image content part of a recorded chat request."""
    [message] = request.body["messages"]
    [part] = [part for part in message["content"] if part["type"] == "image_url"]
    prefix, encoded = part["image_url"]["url"].split(",", 1)
    assert prefix.startswith("data:image/")
    assert prefix.endswith(";base64")
    return prefix.removeprefix("data:").removesuffix(";base64"), base64.b64decode(encoded)


def prompt_text(request) -> str:
    [message] = request.body["messages"]
    return next(part["text"] for part in message["content"] if part["type"] == "text")


def test_the_stored_image_arrives_as_an_image_content_part(
    client, api_key, media_files, openai_server: FakeOpenAIServer, settings
):
    settings.OPENAI_VISION_MODEL = "gpt-4o"
    openai_server.script("En knust rødvinsflaske i en papkasse.")

    response = client.post(
        URL,
        {"file": upload("broken.png", sample("broken-bottle.png"))},
        HTTP_AUTHORIZATION=f"Api-Key {api_key}",
    )

    assert response.status_code == 201
    assert response.json()["description"] == "En knust rødvinsflaske i en papkasse."
    assert response.json()["description_status"] == "ready"
    [sent] = openai_server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.body["model"] == "gpt-4o"
    mime_type, image = image_part(sent)
    [stored] = media_files()
    assert mime_type == "image/png"
    assert image == stored.read_bytes()
    text = prompt_text(sent)
    assert "Vinbar" in text  # the default image_description template, rendered for the chatbot
    assert "Danish" in text


def test_a_transient_error_is_retried(chatbot, openai_server: FakeOpenAIServer):
    openai_server.script(Reply(status=500), "A red wine bottle with a torn label.")

    image = image_upload_create(chatbot=chatbot, uploaded_file=upload("b.jpg", sample("red-wine-bottle.jpg")))

    assert image.description == "A red wine bottle with a torn label."
    assert image.description_status == ImageUpload.Status.READY
    assert [request.outcome for request in openai_server.requests] == ["rejected", "completed"]
    assert image_part(openai_server.requests[1])[0] == "image/jpeg"


def test_a_description_that_keeps_failing_leaves_a_usable_upload(chatbot, media_files, openai_server):
    openai_server.script(status=503, times=3)

    image = image_upload_create(chatbot=chatbot, uploaded_file=upload("s.webp", sample("sparkling.webp")))

    image.refresh_from_db()
    assert image.description_status == ImageUpload.Status.FAILED
    assert image.description_error == "provider_unavailable"
    assert image.description == ""
    assert image.description_ms is not None
    assert len(openai_server.requests) == 3
    assert len(media_files()) == 1


def test_a_permanent_error_is_not_retried(client, api_key, openai_server: FakeOpenAIServer):
    openai_server.script(status=401)

    response = client.post(
        URL, {"file": upload("l.gif", sample("label.gif"))}, HTTP_AUTHORIZATION=f"Api-Key {api_key}"
    )

    assert response.status_code == 201
    assert response.json()["description_status"] == "failed"
    assert ImageUpload.objects.get().description_error == "provider_auth_failed"
    assert len(openai_server.requests) == 1


def test_edits_of_the_image_description_template_take_effect_at_once(chatbot, openai_server):
    def describe_and_read_prompt() -> str:
        image_upload_create(chatbot=chatbot, uploaded_file=upload("l.gif", sample("label.gif")))
        return prompt_text(openai_server.requests[-1])

    default = describe_and_read_prompt()  # the default template, now cached
    template = PromptTemplate.objects.create(
        chatbot=chatbot,
        purpose=PromptTemplate.Purpose.IMAGE_DESCRIPTION,
        template="Describe the damage for {chatbot_name}, in {language}. VERSION-1",
    )
    first = describe_and_read_prompt()
    template.template = "List the products you see for {chatbot_name}. VERSION-2"
    template.save()
    second = describe_and_read_prompt()

    assert "VERSION" not in default
    assert first.startswith("Describe the damage for Vinbar, in da. VERSION-1")
    assert second.startswith("List the products you see for Vinbar. VERSION-2")
