import pytest
from cryptography.fernet import Fernet

from tests import services
from tests.fakes.openai_server import openai_server  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def _test_encryption_key(settings):
    # Each test encrypts with its own throwaway key, never the developer's local key file.
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


@pytest.fixture
def redis_url() -> str:
    return services.redis_url()


@pytest.fixture
def redis_cache(settings, redis_url):
    """Django's cache on the real Redis (whatever REDIS_URL the test run has)."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    yield
    cache.clear()


@pytest.fixture
def postgres_url() -> str:
    return services.postgres_url()


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(username="staff", password="staff-pass-123")
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _eager_celery():
    # Tasks run inline in tests; the e2e process test runs a real worker instead.
    from chatplatform.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fresh_providers(settings):
    from chatplatform.ai import reset_providers

    reset_providers()
    yield
    reset_providers()


@pytest.fixture(autouse=True)
def _fresh_local_vectors():
    # In-process matrices of the local vector store must not outlive a test's database.
    from chatplatform.vectorstores.local import local_vector_cache_clear

    local_vector_cache_clear()
    yield
    local_vector_cache_clear()


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rate-limit counters, prompt templates, chatbot settings and vector versions must not leak
    # between tests.
    from django.core.cache import cache

    from conversations.chat.chatbot_configs import chatbot_configs_clear
    from conversations.chat.rate_limits import local_ip_counts_clear
    from conversations.prompts import recent_prompt_templates_clear

    cache.clear()
    chatbot_configs_clear()
    local_ip_counts_clear()
    recent_prompt_templates_clear()


@pytest.fixture
def openai_settings(settings, openai_server):  # noqa: F811
    """The openai provider against the tests' OpenAI-compatible server, without SDK retries and
    with a short timeout: provider tests script every single request."""
    settings.AI_PROVIDER = "openai"
    settings.OPENAI_API_KEY = openai_server.api_key
    settings.OPENAI_BASE_URL = openai_server.base_url
    settings.OPENAI_TIMEOUT_SECONDS = 2.0
    settings.OPENAI_MAX_RETRIES = 0
    settings.OPENAI_CHAT_MODEL = "gpt-4o-mini"
    settings.OPENAI_VISION_MODEL = "gpt-4o-mini"
    settings.OPENAI_EMBEDDING_MODEL = "text-embedding-3-small"
    settings.OPENAI_EMBEDDING_DIMENSIONS = 0
    from chatplatform.ai import reset_providers

    reset_providers()
    return settings


@pytest.fixture
def openai_chat(settings, openai_server):  # noqa: F811
    """The openai provider for whole conversations: the SDK's own retries, and scripted replies
    kept for chat completions (embedding requests get the server's default)."""
    settings.AI_PROVIDER = "openai"
    settings.OPENAI_API_KEY = openai_server.api_key
    settings.OPENAI_BASE_URL = openai_server.base_url
    settings.OPENAI_TIMEOUT_SECONDS = 3
    openai_server.script_chat_only = True
    from chatplatform.ai import reset_providers

    reset_providers()
    return openai_server


@pytest.fixture(autouse=True)
def _telemetry_flushed_on_demand(settings):
    # Records wait for a test's own `telemetry.flush_now()`: a flusher thread writing on its own
    # connection during another test's transaction would lock SQLite. Nothing carries over.
    from chatplatform.telemetry.recorder import recorder

    settings.TELEMETRY_FLUSH_INTERVAL_SECONDS = 0
    yield
    recorder.discard()
