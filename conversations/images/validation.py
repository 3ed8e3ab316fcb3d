"""What an uploaded file is, decided by its bytes, and a clean copy of it.

Only JPEG, PNG, GIF and WebP are accepted, recognised by their signature, never by name or declared
type. Dimensions are checked from the header before any pixel is decoded (a small file can
declare billions of pixels); every frame is then decoded, so a truncated or damaged file is refused
here rather than when someone looks at it. The copy that is kept is re-encoded from the pixels:
EXIF (GPS, camera), XMP, ICC, comments and anything after the image data are gone, and a JPEG's
EXIF orientation is applied to the pixels first. Animated GIF and WebP stay animated.

Refusals raise `ImageRefused` with a message id of `conversations.images.messages`; the service
turns it into the API error in the chatbot's language.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from itertools import count

from django.conf import settings
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

# Format -> (MIME type, file extension) of the stored copy.
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# A multipart body is the file plus boundaries and part headers (and a conversation id): a
# request declaring more than the file limit plus this cannot carry an acceptable file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
JPEG_QUALITY = 90
WEBP_QUALITY = 90
_PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})
# The only entry of `info` that is part of the picture rather than metadata about it.
_KEPT_INFO = ("transparency",)


class ImageRefused(Exception):
    """The file is not an acceptable image; `reason` is a message id, `params` fill its text."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


@dataclass(frozen=True, slots=True)
class CleanImage:
    """The re-encoded image and what is known about it."""

    data: bytes
    format: str
    width: int
    height: int
    frames: int

    @property
    def mime_type(self) -> str:
        return FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][1]


def image_format_sniff(data: bytes) -> str | None:
    """The format named by the file's signature (JPEG, PNG, GIF, WEBP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def file_too_large() -> ImageRefused:
    """The refusal of a file over `IMAGE_MAX_UPLOAD_BYTES`."""
    return ImageRefused("file_too_large", limit=_human_size(settings.IMAGE_MAX_UPLOAD_BYTES))


def image_size_check(size: int) -> None:
    """Refuse a file over `IMAGE_MAX_UPLOAD_BYTES` (`file_too_large`) before reading it."""
    if size > settings.IMAGE_MAX_UPLOAD_BYTES:
        raise file_too_large()


def upload_declared_size_check(content_length: str | int | None) -> None:
    """Refuse a request whose declared body cannot hold an acceptable file, before it is read."""
    try:
        declared = int(content_length or 0)
    except (TypeError, ValueError):
        return  # the parser reports a malformed request
    if declared > settings.IMAGE_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES:
        raise file_too_large()


def image_clean(data: bytes) -> CleanImage:
    """Validate an uploaded file and return its clean re-encoded copy, or raise `ImageRefused`.

    Checks in order: size (`file_too_large`), signature (`unsupported_type`), header dimensions
    against `IMAGE_MAX_PIXELS` (`too_many_pixels`), structure (`image_corrupt`), then frame by
    frame: at most `IMAGE_MAX_FRAMES` frames (`too_many_frames`) and at most `IMAGE_MAX_PIXELS`
    decoded pixels in all frames together, each frame fully decoded (`image_corrupt`).
    """
    image_size_check(len(data))
    image_format = image_format_sniff(data)
    if image_format is None:
        raise ImageRefused("unsupported_type")
    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as picture:
            _pixels_check(picture.size)
            picture.verify()
        with Image.open(io.BytesIO(data), formats=[image_format]) as picture:
            return _reencode(picture, image_format)
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limits, met when opening, before ours: it raises above twice
        # Image.MAX_IMAGE_PIXELS and warns above it (an error where warnings are errors).
        raise ImageRefused("too_many_pixels", max_megapixels=_megapixels()) from None
    except Exception as exc:  # Pillow signals damage with many exception types
        logger.info("Refused an unreadable %s image: %r", image_format, exc)
        raise ImageRefused("image_corrupt") from None


def _reencode(picture: Image.Image, image_format: str) -> CleanImage:
    # A camera JPEG with a preview is MPO to Pillow; the first picture is the photo.
    animated = image_format in ("GIF", "WEBP") and getattr(picture, "is_animated", False)
    if animated:
        return _reencode_animation(picture, image_format)
    picture.load()
    # In place: without an orientation to apply, `exif_transpose` would otherwise copy the pixels.
    ImageOps.exif_transpose(picture, in_place=True)
    still = _without_metadata(picture)
    buffer = io.BytesIO()
    options = _picture_options(still)
    if image_format == "JPEG":
        if still.mode not in ("L", "RGB"):
            still = still.convert("RGB")
        still.save(buffer, "JPEG", quality=JPEG_QUALITY)
    elif image_format == "PNG":
        if still.mode not in _PNG_MODES:
            still, options = still.convert("RGBA"), {}
        still.save(buffer, "PNG", **options)
    elif image_format == "WEBP":
        mode = "RGBA" if still.has_transparency_data else "RGB"
        if still.mode != mode:  # `convert` to the same mode copies the pixels
            still = still.convert(mode)
        still.save(buffer, "WEBP", quality=WEBP_QUALITY)
    else:
        still.save(buffer, "GIF", **options)
    return CleanImage(buffer.getvalue(), image_format, still.width, still.height, 1)


def _reencode_animation(picture: Image.Image, image_format: str) -> CleanImage:
    max_frames = settings.IMAGE_MAX_FRAMES
    pixels = picture.width * picture.height
    loop = picture.info.get("loop")
    frames: list[Image.Image] = []
    durations: list[int] = []
    for index in count():
        try:
            picture.seek(index)  # reads the frame's header; its pixels are decoded below
        except EOFError:
            break
        if index >= max_frames:
            raise ImageRefused("too_many_frames", max_frames=max_frames)
        _pixels_check((picture.width, picture.height), frames=index + 1)
        durations.append(int(picture.info.get("duration") or 0))
        frames.append(_without_metadata(picture.convert("RGBA")))
    if not frames or pixels == 0:
        raise ImageRefused("image_corrupt")
    options: dict[str, object] = {"save_all": True, "append_images": frames[1:], "duration": durations}
    if loop is not None:
        options["loop"] = loop
    if image_format == "WEBP":
        options["quality"] = WEBP_QUALITY
    buffer = io.BytesIO()
    frames[0].save(buffer, image_format, **options)
    return CleanImage(buffer.getvalue(), image_format, frames[0].width, frames[0].height, len(frames))


def _pixels_check(size: tuple[int, int], *, frames: int = 1) -> None:
    width, height = size
    if width * height * frames > settings.IMAGE_MAX_PIXELS:
        raise ImageRefused("too_many_pixels", max_megapixels=_megapixels())


def _without_metadata(image: Image.Image) -> Image.Image:
    # Pillow writes some `info` entries back when saving (a PNG's ICC profile, a GIF's comment).
    image.info = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    return image


def _picture_options(image: Image.Image) -> dict[str, object]:
    return {"transparency": image.info["transparency"]} if "transparency" in image.info else {}


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} B"


def _megapixels() -> str:
    return f"{settings.IMAGE_MAX_PIXELS / 1_000_000:g}"
