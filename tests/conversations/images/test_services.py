"""The upload service: validate, store a clean copy under a random name, describe; and the
selector the chat pipeline uses to find a message's image."""

import io
import re
import uuid
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone
from PIL import Image

from chatplatform.errors import ApplicationError
from conversations.chat.services import conversation_create
from conversations.images.selectors import image_for_message
from conversations.images.services import image_prompt_context, image_upload_create
from conversations.models import ImageUpload
from tests.conversations.factories import ChatbotFactory
from tests.conversations.images.conftest import (
    SAMPLE_FORMATS,
    jpeg_with_gps,
    png_claiming,
    sample,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.AI_PROVIDER = "local"


@pytest.mark.parametrize(("name", "image_format"), SAMPLE_FORMATS.items())
def test_it_stores_a_clean_copy_under_a_random_name_per_chatbot(chatbot, media_files, name, image_format):
    image = image_upload_create(chatbot=chatbot, uploaded_file=upload(name, sample(name)))

    extension = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}[image_format]
    assert re.fullmatch(rf"images/vinbar/[A-Za-z0-9_-]{{24}}\.{extension}", image.file.name)
    assert name.split(".")[0] not in image.file.name
    [stored] = media_files()
    assert stored.as_posix().endswith(image.file.name)
    assert image.size == stored.stat().st_size
    with Image.open(stored) as reopened:
        assert reopened.format == image.format == image_format
        assert reopened.size == (image.width, image.height)
    image.refresh_from_db()
    assert image.chatbot == chatbot
    assert image.conversation is None


def test_the_uploaded_name_is_never_used(chatbot, media_files):
    image = image_upload_create(
        chatbot=chatbot, uploaded_file=upload("../../../etc/passwd.jpg", sample("red-wine-bottle.jpg"))
    )

    assert "passwd" not in image.file.name
    assert all("passwd" not in path.name for path in media_files())


def test_the_local_provider_describes_format_dimensions_and_colours(chatbot):
    image = image_upload_create(chatbot=chatbot, uploaded_file=upload("b.png", sample("broken-bottle.png")))

    assert image.description_status == ImageUpload.Status.READY
    assert "PNG" in image.description
    assert "480 x 640" in image.description
    assert "Billedet er overvejende" in image.description  # the chatbot's language: Danish
    assert image.description_error == ""
    assert image.description_ms is not None
    assert image.description_ms >= 0


def test_the_upload_belongs_to_its_conversation(chatbot, conversation_and_token):
    conversation, _ = conversation_and_token

    image = image_upload_create(
        chatbot=chatbot, conversation=conversation, uploaded_file=upload("a.gif", sample("label.gif"))
    )

    assert image.conversation == conversation
    assert list(conversation.images.all()) == [image]


def test_the_stored_copy_of_a_photo_with_gps_has_no_exif(chatbot, media_files):
    image_upload_create(chatbot=chatbot, uploaded_file=upload("holiday.jpg", jpeg_with_gps()))

    [stored] = media_files()
    data = stored.read_bytes()
    with Image.open(io.BytesIO(data)) as reopened:
        assert not reopened.getexif()
        assert "exif" not in reopened.info
    assert b"PhoneMaker" not in data
    assert b"Exif" not in data


@pytest.mark.parametrize(
    ("name", "content", "code", "status"),
    [
        ("photo.jpg", b"MZ\x90\0 this is a Windows program, named like a photo", "unsupported_type", 415),
        ("truncated.jpg", sample("red-wine-bottle.jpg")[:5000], "image_corrupt", 400),
        ("bomb.png", png_claiming(20_000, 20_000), "image_too_large_dimensions", 400),
    ],
    ids=["jpg-name-other-content", "truncated", "pixel-bomb"],
)
def test_a_refused_upload_leaves_nothing_stored(chatbot, media_files, name, content, code, status):
    with pytest.raises(ApplicationError) as refused:
        image_upload_create(chatbot=chatbot, uploaded_file=upload(name, content))

    assert (refused.value.code, refused.value.status_code) == (code, status)
    assert media_files() == []
    assert not ImageUpload.objects.exists()


def test_a_file_one_byte_over_the_limit_leaves_nothing_stored(settings, chatbot, media_files):
    data = sample("red-wine-bottle.jpg")
    settings.IMAGE_MAX_UPLOAD_BYTES = len(data) - 1

    with pytest.raises(ApplicationError) as refused:
        image_upload_create(chatbot=chatbot, uploaded_file=upload("big.jpg", data))

    assert (refused.value.code, refused.value.status_code) == ("file_too_large", 413)
    assert media_files() == []
    assert not ImageUpload.objects.exists()


def test_a_png_named_jpg_is_judged_by_its_content(chatbot):
    image = image_upload_create(
        chatbot=chatbot, uploaded_file=upload("label.jpg", sample("broken-bottle.png"))
    )

    assert image.format == "PNG"
    assert image.file.name.endswith(".png")


def test_a_failed_row_write_removes_the_stored_file(chatbot, media_files, monkeypatch):
    def fail(**fields):
        raise DatabaseError("disk full")

    monkeypatch.setattr(ImageUpload.objects, "create", fail)

    with pytest.raises(DatabaseError):
        image_upload_create(chatbot=chatbot, uploaded_file=upload("a.gif", sample("label.gif")))

    assert media_files() == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("da", "Filen er ikke et understøttet billede"),
        ("sv", "Filen är inte en bild som stöds"),
        ("de", "Diese Datei ist kein unterstütztes Bild"),
        ("en", "This file is not a supported image"),
        ("fr", "This file is not a supported image"),
        ("da-DK", "Filen er ikke et understøttet billede"),
    ],
)
def test_refusals_are_in_the_chatbots_language(language, expected):
    chatbot = ChatbotFactory(chatbot_id=f"shop-{language.lower()}", language=language)

    with pytest.raises(ApplicationError) as refused:
        image_upload_create(chatbot=chatbot, uploaded_file=upload("x.jpg", b"not an image"))

    assert refused.value.code == "unsupported_type"
    assert refused.value.message.startswith(expected)


def test_the_size_refusal_names_the_limit(settings, chatbot):
    settings.IMAGE_MAX_UPLOAD_BYTES = 10 * 1024 * 1024

    with pytest.raises(ApplicationError) as refused:
        image_upload_create(
            chatbot=chatbot, uploaded_file=upload("x.jpg", b"\xff\xd8\xff" + b"0" * 10 * 1024 * 1024)
        )

    assert refused.value.message == "Billedet er for stort. Billeder må højst fylde 10 MB."


# --- the selector the chat pipeline calls ------------------------------------------------------


@pytest.fixture
def widget_image(chatbot, conversation_and_token) -> ImageUpload:
    conversation, _ = conversation_and_token
    return image_upload_create(
        chatbot=chatbot, conversation=conversation, uploaded_file=upload("a.gif", sample("label.gif"))
    )


def test_a_message_finds_an_image_of_its_own_conversation(chatbot, widget_image):
    found = image_for_message(
        chatbot=chatbot, conversation_id=widget_image.conversation_id, image_id=str(widget_image.pk)
    )

    assert found == widget_image


def test_an_integrations_image_without_conversation_serves_any_conversation_of_its_chatbot(chatbot):
    image = image_upload_create(chatbot=chatbot, uploaded_file=upload("a.gif", sample("label.gif")))
    conversation, _ = conversation_create(chatbot=chatbot)

    assert image_for_message(chatbot=chatbot, conversation_id=conversation.pk, image_id=image.pk) == image


def not_found(**kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as refused:
        image_for_message(**kwargs)
    return refused.value


def test_an_image_of_another_conversation_is_not_found(chatbot, widget_image):
    other, _ = conversation_create(chatbot=chatbot)

    error = not_found(chatbot=chatbot, conversation_id=other.pk, image_id=widget_image.pk)

    assert (error.code, error.status_code) == ("image_not_found", 404)
    assert error.message.startswith("Billedet findes ikke")


def test_an_image_of_another_chatbot_is_not_found(widget_image):
    other_bot = ChatbotFactory(chatbot_id="other", language="en")
    other_conversation, _ = conversation_create(chatbot=other_bot)

    error = not_found(chatbot=other_bot, conversation_id=other_conversation.pk, image_id=widget_image.pk)

    assert error.code == "image_not_found"
    assert error.message.startswith("That image does not exist")


@pytest.mark.parametrize("image_id", [str(uuid.uuid4()), "not-a-uuid", ""])
def test_an_unknown_or_malformed_image_id_is_not_found(chatbot, widget_image, image_id):
    error = not_found(chatbot=chatbot, conversation_id=widget_image.conversation_id, image_id=image_id)

    assert error.code == "image_not_found"


def test_an_image_past_its_retention_is_not_found(settings, chatbot, widget_image):
    settings.IMAGE_RETENTION_DAYS = 30
    ImageUpload.objects.filter(pk=widget_image.pk).update(created_at=timezone.now() - timedelta(days=31))

    error = not_found(chatbot=chatbot, conversation_id=widget_image.conversation_id, image_id=widget_image.pk)

    assert error.code == "image_not_found"


def test_the_prompt_context_carries_the_description(widget_image):
    context = image_prompt_context(upload=widget_image)

    assert "GIF, 240 x 320 pixels" in context
    assert widget_image.description in context


def test_the_prompt_context_says_when_an_image_could_not_be_described(widget_image):
    widget_image.description_status = ImageUpload.Status.FAILED
    widget_image.description = ""

    assert "could not be described" in image_prompt_context(upload=widget_image)
