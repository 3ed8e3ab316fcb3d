"""Refusals of image uploads in the chatbot's language (da, en, sv, de; anything else: en).

Codes are the API contract; messages are for the shopper and are shown as they are by the widget.
"""

from __future__ import annotations

from rest_framework import status

from chatplatform.ai.text import normalise_language
from chatplatform.errors import ApplicationError

FILE_TOO_LARGE = "file_too_large"
UNSUPPORTED_TYPE = "unsupported_type"
IMAGE_CORRUPT = "image_corrupt"
IMAGE_TOO_LARGE_DIMENSIONS = "image_too_large_dimensions"
IMAGE_NOT_FOUND = "image_not_found"
INVALID_CONVERSATION_TOKEN = "invalid_conversation_token"  # noqa: S105  (an error code, not a secret)
ORIGIN_NOT_ALLOWED = "origin_not_allowed"

# Message id -> (error code, HTTP status). Two messages share `image_too_large_dimensions`:
# too many pixels and too many frames are the same refusal to a client that branches on codes.
REFUSALS: dict[str, tuple[str, int]] = {
    "file_too_large": (FILE_TOO_LARGE, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE),
    "unsupported_type": (UNSUPPORTED_TYPE, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE),
    "image_corrupt": (IMAGE_CORRUPT, status.HTTP_400_BAD_REQUEST),
    "too_many_pixels": (IMAGE_TOO_LARGE_DIMENSIONS, status.HTTP_400_BAD_REQUEST),
    "too_many_frames": (IMAGE_TOO_LARGE_DIMENSIONS, status.HTTP_400_BAD_REQUEST),
    "image_not_found": (IMAGE_NOT_FOUND, status.HTTP_404_NOT_FOUND),
    "invalid_conversation_token": (INVALID_CONVERSATION_TOKEN, status.HTTP_403_FORBIDDEN),
    "origin_not_allowed": (ORIGIN_NOT_ALLOWED, status.HTTP_403_FORBIDDEN),
}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "file_too_large": "The image is too large. Images may be at most {limit}.",
        "unsupported_type": "This file is not a supported image. Please send a JPEG, PNG, GIF or WebP image.",
        "image_corrupt": "The image could not be read. It may be damaged or incomplete; please try another.",
        "too_many_pixels": (
            "The image has too many pixels. Images may be at most {max_megapixels} megapixels."
        ),
        "too_many_frames": "The animation has too many frames. Animations may have at most {max_frames}.",
        "image_not_found": "That image does not exist or has expired. Please send it again.",
        "invalid_conversation_token": "This conversation is not valid any more. Please reload the chat.",
        "origin_not_allowed": "Images cannot be sent to this chat from this website.",
        "rate_limited": "You have sent too many images. Please try again later.",
    },
    "da": {
        "file_too_large": "Billedet er for stort. Billeder må højst fylde {limit}.",
        "unsupported_type": (
            "Filen er ikke et understøttet billede. Send venligst et JPEG-, PNG-, GIF- eller WebP-billede."
        ),
        "image_corrupt": (
            "Billedet kunne ikke læses. Det er måske beskadiget eller ufuldstændigt; prøv et andet."
        ),
        "too_many_pixels": (
            "Billedet har for mange pixels. Billeder må højst have {max_megapixels} megapixels."
        ),
        "too_many_frames": (
            "Animationen har for mange billeder. Animationer må højst have {max_frames} billeder."
        ),
        "image_not_found": "Billedet findes ikke eller er udløbet. Send det venligst igen.",
        "invalid_conversation_token": "Samtalen er ikke længere gyldig. Genindlæs venligst chatten.",
        "origin_not_allowed": "Der kan ikke sendes billeder til denne chat fra dette websted.",
        "rate_limited": "Du har sendt for mange billeder. Prøv venligst igen senere.",
    },
    "sv": {
        "file_too_large": "Bilden är för stor. Bilder får vara högst {limit}.",
        "unsupported_type": "Filen är inte en bild som stöds. Skicka en JPEG-, PNG-, GIF- eller WebP-bild.",
        "image_corrupt": "Bilden kunde inte läsas. Den kan vara skadad eller ofullständig; prova en annan.",
        "too_many_pixels": "Bilden har för många pixlar. Bilder får ha högst {max_megapixels} megapixlar.",
        "too_many_frames": "Animationen har för många bildrutor. Animationer får ha högst {max_frames}.",
        "image_not_found": "Bilden finns inte eller har gått ut. Skicka den igen.",
        "invalid_conversation_token": "Konversationen är inte längre giltig. Ladda om chatten.",
        "origin_not_allowed": "Bilder kan inte skickas till den här chatten från den här webbplatsen.",
        "rate_limited": "Du har skickat för många bilder. Försök igen senare.",
    },
    "de": {
        "file_too_large": "Das Bild ist zu groß. Bilder dürfen höchstens {limit} groß sein.",
        "unsupported_type": (
            "Diese Datei ist kein unterstütztes Bild. Bitte senden Sie ein JPEG-, PNG-, GIF- oder WebP-Bild."
        ),
        "image_corrupt": (
            "Das Bild konnte nicht gelesen werden. Es ist vielleicht beschädigt oder unvollständig; "
            "bitte versuchen Sie ein anderes."
        ),
        "too_many_pixels": (
            "Das Bild hat zu viele Pixel. Bilder dürfen höchstens {max_megapixels} Megapixel haben."
        ),
        "too_many_frames": (
            "Die Animation hat zu viele Einzelbilder. Animationen dürfen höchstens {max_frames} haben."
        ),
        "image_not_found": "Dieses Bild gibt es nicht oder es ist abgelaufen. Bitte senden Sie es erneut.",
        "invalid_conversation_token": (
            "Diese Unterhaltung ist nicht mehr gültig. Bitte laden Sie den Chat neu."
        ),
        "origin_not_allowed": "Von dieser Website können keine Bilder an diesen Chat gesendet werden.",
        "rate_limited": "Sie haben zu viele Bilder gesendet. Bitte versuchen Sie es später erneut.",
    },
}


def image_message(message_id: str, *, language: str, **params: object) -> str:
    """The text of a refusal in `language` (English when the language has no translation)."""
    texts = MESSAGES.get(normalise_language(language), MESSAGES["en"])
    return texts[message_id].format(**params)


def image_error(message_id: str, *, language: str, **params: object) -> ApplicationError:
    """The `ApplicationError` of a refusal, with its stable code, status and localised message."""
    code, status_code = REFUSALS[message_id]
    return ApplicationError(
        code, image_message(message_id, language=language, **params), status_code=status_code
    )
