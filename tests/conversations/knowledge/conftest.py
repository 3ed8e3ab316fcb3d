from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chatplatform.vectorstores.local import local_vector_cache_clear
from conversations.models import ChatbotAPIKey, ChatbotSettings
from tests.chatplatform.documents.samples import DATA, docx_bytes, long_markdown
from tests.conversations.factories import ChatbotFactory

__all__ = ["DATA", "SHIPPING_MD", "docx_bytes", "long_markdown", "upload"]

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
