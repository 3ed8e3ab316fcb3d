import pytest
from django.core.exceptions import ImproperlyConfigured

from chatplatform.ai import get_chat_provider, get_embedder, reset_providers
from chatplatform.ai.base import ChatProvider, Embedder
from chatplatform.ai.local import LocalChatProvider, LocalEmbedder
from chatplatform.ai.openai import OpenAIChatProvider, OpenAIEmbedder


def test_it_picks_the_providers_named_by_the_setting(settings):
    settings.AI_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-test"
    reset_providers()

    assert isinstance(get_chat_provider(), OpenAIChatProvider)
    assert isinstance(get_embedder(), OpenAIEmbedder)

    settings.AI_PROVIDER = "local"
    reset_providers()

    assert isinstance(get_chat_provider(), LocalChatProvider)
    assert isinstance(get_embedder(), LocalEmbedder)


def test_the_providers_are_process_wide_singletons(settings):
    settings.AI_PROVIDER = "local"

    assert get_chat_provider() is get_chat_provider()
    assert get_embedder() is get_embedder()


def test_all_providers_implement_the_interface():
    for provider in (LocalChatProvider(), OpenAIChatProvider()):
        assert isinstance(provider, ChatProvider)
    for embedder in (LocalEmbedder(), OpenAIEmbedder()):
        assert isinstance(embedder, Embedder)


def test_only_the_language_model_provider_composes_text():
    # The order flow asks the provider's capability, not its name, whether to phrase facts itself.
    assert OpenAIChatProvider().composes_text is True
    assert LocalChatProvider().composes_text is False


def test_an_unknown_provider_is_a_configuration_error(settings):
    settings.AI_PROVIDER = "magic"

    with pytest.raises(ImproperlyConfigured):
        get_chat_provider()
