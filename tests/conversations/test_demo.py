import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from conversations.models import ChatbotSettings

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_demo_chatbot_loads_from_its_manifest_and_again_changes_nothing():
    assert "1 created" in run("load_demo_data")
    nordvin = ChatbotSettings.objects.get(chatbot_id="nordvin")
    updated_at = nordvin.updated_at

    assert "1 unchanged" in run("load_demo_data")

    nordvin.refresh_from_db()
    assert nordvin.updated_at == updated_at
    assert nordvin.language == "da"
    assert nordvin.flow_indexes() == {
        "default": "nordvin-general",
        "flow2": "nordvin-products",
        "flow3": "nordvin-pairing",
        "flow4": "nordvin-events",
        "apiflow": "nordvin-orders",
    }
    assert "Ordrestatus" in nordvin.topics
    assert not nordvin.uses_pinecone


def test_ensure_admin_prints_a_generated_password_once(settings, client):
    settings.SUPERUSER_PASSWORD = ""

    first = run("ensure_admin")
    second = run("ensure_admin")

    password = first.split("password: ")[1].split()[0]
    assert client.login(username="admin", password=password)
    assert "exists" in second
    assert password not in second


def test_ensure_admin_takes_the_password_from_the_environment(settings, client):
    settings.SUPERUSER_USERNAME = "owner"
    settings.SUPERUSER_PASSWORD = "from-the-env-123"

    out = run("ensure_admin")

    assert "from-the-env-123" not in out
    assert client.login(username="owner", password="from-the-env-123")
    assert get_user_model().objects.get(username="owner").is_superuser
