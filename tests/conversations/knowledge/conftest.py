import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chatplatform.vectorstores.local import local_vector_cache_clear
from conversations.models import ChatbotAPIKey, ChatbotSettings
from tests.conversations.factories import ChatbotFactory

DATA = Path(__file__).resolve().parents[2] / "data" / "knowledge"

SHIPPING_MD = """# Shipping

We ship to all addresses in Denmark and to Sweden. Standard delivery costs 49 DKK.

## Express

Express delivery in Copenhagen arrives the same day and costs 149 DKK.
"""


@pytest.fixture(autouse=True)
def _media_and_vectors(settings, tmp_path):
    # Stored files go to a throwaway folder; matrices cached by earlier tests are forgotten.
    settings.MEDIA_ROOT = tmp_path / "media"
    local_vector_cache_clear()
    yield
    local_vector_cache_clear()


@pytest.fixture
def media_files(settings) -> Callable[[], list[Path]]:
    def files() -> list[Path]:
        root = Path(settings.MEDIA_ROOT)
        return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []

    return files


@pytest.fixture
def chatbot() -> ChatbotSettings:
    return ChatbotFactory(chatbot_id="vinbar", flow3_knowledgebase_index="vinbar-pairing")


@pytest.fixture
def api_key(chatbot) -> str:
    return ChatbotAPIKey.objects.create_key(chatbot=chatbot, name="shop backend")[1]


def upload(name: str, content: bytes | str) -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data)


def long_markdown(paragraphs: int, *, heading: str = "Wine guide", seed: str = "grape") -> str:
    """A document long enough for several chunks, with distinct sentences."""
    body = "\n\n".join(
        f"Paragraph {n} is about the {seed} number {n}. It grows on slope {n} near the river. "
        f"Harvest {n} happens in September when the {seed} {n} is ripe and sweet."
        for n in range(paragraphs)
    )
    return f"# {heading}\n\n{body}\n"


def docx_bytes(*blocks: tuple[str, str]) -> bytes:
    """A DOCX of (style, text) paragraphs; the style "table" adds a table of "a|b;c|d" rows."""
    from docx import Document

    document = Document()
    for style, text in blocks:
        if style == "table":
            rows = [row.split("|") for row in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        elif style.startswith("Heading"):
            document.add_heading(text, level=int(style.split()[-1]))
        else:
            document.add_paragraph(text, style=style or None)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
