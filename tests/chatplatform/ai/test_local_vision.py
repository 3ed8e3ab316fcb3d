import pytest

from chatplatform.ai.base import ProviderError
from chatplatform.ai.local import LocalChatProvider


async def describe(image: bytes, language: str) -> str:
    return await LocalChatProvider().describe_image(
        image=image, mime_type="image/png", prompt="What is in the picture?", language=language
    )


async def test_it_describes_a_dark_picture_in_danish(make_image):
    image = make_image([(10, 10, 10), (10, 10, 10), (20, 30, 120)], size=(30, 24))

    text = await describe(image, "da")

    assert text.startswith("Et PNG-billede på 30 x 24 pixels.")
    assert "sort" in text
    assert "blå" in text
    assert "overvejende mørkt" in text


async def test_it_describes_a_light_picture_in_english(make_image):
    image = make_image([(250, 250, 250), (250, 250, 250), (240, 220, 40)], size=(64, 48), image_format="JPEG")

    text = await describe(image, "en")

    assert text.startswith("A JPEG image of 64 x 48 pixels.")
    assert "The main colours are white and yellow." in text
    assert "mostly light" in text


async def test_it_names_the_three_most_common_colours_most_common_first(make_image):
    image = make_image([(200, 20, 20)] * 3 + [(20, 160, 40)] * 2 + [(30, 60, 200)], size=(12, 60))

    text = await describe(image, "en")

    assert "The main colours are red, green and blue." in text


async def test_it_falls_back_to_english_for_other_languages(make_image):
    text = await describe(make_image((250, 250, 250)), "fi")

    assert "mostly light" in text


async def test_an_unreadable_image_is_a_provider_error():
    with pytest.raises(ProviderError) as caught:
        await describe(b"definitely not an image", "en")

    assert caught.value.code == "provider_bad_response"
    assert caught.value.retryable is False
