import pytest
from cryptography.fernet import Fernet

from tests import services


@pytest.fixture(autouse=True)
def _test_encryption_key(settings):
    # Each test encrypts with its own throwaway key, never the developer's local key file.
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


@pytest.fixture
def redis_url() -> str:
    return services.redis_url()


@pytest.fixture
def postgres_url() -> str:
    return services.postgres_url()


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(username="staff", password="staff-pass-123")
    client.force_login(user)
    return client
