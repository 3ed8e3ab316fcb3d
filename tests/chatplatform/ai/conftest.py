from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from chatplatform.ai import reset_providers
from chatplatform.ai.base import ChatRequest, ContextChunk
from tests.fakes.openai_server import FakeOpenAIServer, openai_server  # noqa: F401

SHOP_KB = Path(__file__).resolve().parents[2] / "data" / "shop-kb"


@pytest.fixture
def openai_settings(settings, openai_server: FakeOpenAIServer):  # noqa: F811
    """Point the openai provider at the fake server, with no SDK retries and a short timeout."""
    settings.AI_PROVIDER = "openai"
    settings.OPENAI_API_KEY = openai_server.api_key
    settings.OPENAI_BASE_URL = openai_server.base_url
    settings.OPENAI_TIMEOUT_SECONDS = 2.0
    settings.OPENAI_MAX_RETRIES = 0
    settings.OPENAI_CHAT_MODEL = "gpt-4o-mini"
    settings.OPENAI_EMBEDDING_MODEL = "text-embedding-3-small"
    settings.OPENAI_EMBEDDING_DIMENSIONS = 0
    reset_providers()
    return settings


def chat_request(
    question: str, context: list[ContextChunk] | None = None, language: str = "en"
) -> ChatRequest:
    context = context or []
    system = "Answer from the context.\n\n" + "\n\n".join(chunk.text for chunk in context)
    return ChatRequest(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
        question=question,
        context=context,
        language=language,
    )


@pytest.fixture
def make_image(tmp_path) -> Callable[..., bytes]:
    """Encode a small Pillow image filled with one colour (or a list of horizontal bands)."""

    def make(colours, size=(32, 24), image_format="PNG") -> bytes:
        bands = colours if isinstance(colours, list) else [colours]
        picture = Image.new("RGB", size)
        band_height = size[1] / len(bands)
        for number, colour in enumerate(bands):
            top = round(number * band_height)
            bottom = round((number + 1) * band_height)
            picture.paste(colour, (0, top, size[0], bottom))
        path = tmp_path / f"picture.{image_format.lower()}"
        picture.save(path, format=image_format)
        return path.read_bytes()

    return make
