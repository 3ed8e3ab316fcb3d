"""AI providers (chat, JSON extraction, vision, embeddings) chosen by `settings.AI_PROVIDER`.

Services call `get_chat_provider()` and `get_embedder()` and depend only on the types in
`chatplatform.ai.base`.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from chatplatform.ai.base import ChatProvider, Embedder

_lock = threading.Lock()
_chat_provider: ChatProvider | None = None
_embedder: Embedder | None = None


def _provider_name() -> str:
    name = settings.AI_PROVIDER
    if name not in ("openai", "local"):
        raise ImproperlyConfigured(f"AI_PROVIDER must be 'openai' or 'local', not {name!r}.")
    return name


def get_chat_provider() -> ChatProvider:
    """The process-wide chat provider."""
    global _chat_provider
    provider = _chat_provider
    if provider is None:
        with _lock:
            if _chat_provider is None:
                if _provider_name() == "openai":
                    from chatplatform.ai.openai import OpenAIChatProvider

                    _chat_provider = OpenAIChatProvider()
                else:
                    from chatplatform.ai.local import LocalChatProvider

                    _chat_provider = LocalChatProvider()
            provider = _chat_provider
    return provider


def get_embedder() -> Embedder:
    """The process-wide embedder."""
    global _embedder
    embedder = _embedder
    if embedder is None:
        with _lock:
            if _embedder is None:
                if _provider_name() == "openai":
                    from chatplatform.ai.openai import OpenAIEmbedder

                    _embedder = OpenAIEmbedder()
                else:
                    from chatplatform.ai.local import LocalEmbedder

                    _embedder = LocalEmbedder()
            embedder = _embedder
    return embedder


def reset_providers() -> None:
    """Forget the singletons and SDK clients, so that changed settings take effect (tests)."""
    global _chat_provider, _embedder
    with _lock:
        _chat_provider = None
        _embedder = None
    from chatplatform.ai.openai_client import clients

    clients.clear()
