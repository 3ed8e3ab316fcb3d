from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from chatplatform.ai.base import ChatRequest, ContextChunk

SHOP_KB = Path(__file__).resolve().parents[2] / "data" / "shop-kb"


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
