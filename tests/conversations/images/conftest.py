import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from conversations.chat.services import conversation_create
from conversations.models import ChatbotAPIKey, ChatbotSettings, Conversation
from tests.conversations.factories import ChatbotFactory

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "images"
SAMPLE_FORMATS = {
    "red-wine-bottle.jpg": "JPEG",
    "broken-bottle.png": "PNG",
    "label.gif": "GIF",
    "sparkling.webp": "WEBP",
}
URL = "/api/v1/chatbots/vinbar/images/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # Stored files go to a throwaway folder per test.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def media_files(settings) -> Callable[[], list[Path]]:
    def files() -> list[Path]:
        root = Path(settings.MEDIA_ROOT)
        return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []

    return files


@pytest.fixture
def chatbot() -> ChatbotSettings:
    return ChatbotFactory(chatbot_id="vinbar", name="Vinbar", language="da")


@pytest.fixture
def api_key(chatbot) -> str:
    return ChatbotAPIKey.objects.create_key(chatbot=chatbot, name="shop backend")[1]


@pytest.fixture
def conversation_and_token(chatbot) -> tuple[Conversation, str]:
    return conversation_create(chatbot=chatbot)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def picture(image_format: str, size: tuple[int, int] = (64, 48), colour=(180, 30, 40), **save) -> bytes:
    """A one-colour picture in `image_format`, encoded by Pillow."""
    mode = "P" if image_format == "GIF" else "RGB"
    image = Image.new("RGB", size, colour).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, image_format, **save)
    return buffer.getvalue()


def animation(image_format: str, frames: int, size: tuple[int, int] = (40, 30)) -> bytes:
    """An animation of `frames` differently coloured frames, looping, 80 ms each."""
    images = [Image.new("RGB", size, (n * 5 % 256, 40, 200 - n % 200)) for n in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, image_format, save_all=True, append_images=images[1:], duration=80, loop=0)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG whose header claims `width` x `height` pixels: a pixel bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def jpeg_with_gps(size: tuple[int, int] = (60, 40), orientation: int = 6) -> bytes:
    """A JPEG with camera, GPS and orientation EXIF (rotated 90 degrees by orientation 6)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[0x0112] = orientation  # Orientation
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 36.0), 3: "E", 4: (12.0, 34.0, 5.0)}  # GPSInfo
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 40)).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()
