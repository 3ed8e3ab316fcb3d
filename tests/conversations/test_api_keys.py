import io

import pytest
from django.core.management import CommandError, call_command

from conversations.models import ChatbotAPIKey
from conversations.services import chatbot_api_key_create
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_chatbots():
    return ChatbotFactory(chatbot_id="shop-a"), ChatbotFactory(chatbot_id="shop-b")


def api_get(client, chatbot_id: str, key: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"} if key else {}
    return client.get(f"/api/v1/chatbots/{chatbot_id}/", **headers)


def test_a_key_grants_access_to_its_own_chatbot(client, two_chatbots):
    _, key = chatbot_api_key_create(chatbot_id="shop-a", name="ERP")

    response = api_get(client, "shop-a", key)

    assert response.status_code == 200
    assert response.json()["chatbot_id"] == "shop-a"
    assert response.json()["vector_store"] == "local"


def test_a_key_for_one_chatbot_never_grants_anything_on_another(client, two_chatbots):
    _, key = chatbot_api_key_create(chatbot_id="shop-a", name="ERP")

    response = api_get(client, "shop-b", key)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_key_does_not_reveal_whether_another_chatbot_exists(client, two_chatbots):
    _, key = chatbot_api_key_create(chatbot_id="shop-a", name="ERP")

    assert api_get(client, "no-such-shop", key).status_code == 403


@pytest.mark.parametrize("key", ["nonsense", "abcdefgh.wrongsecret", ""])
def test_an_unknown_key_is_refused(client, two_chatbots, key):
    response = client.get("/api/v1/chatbots/shop-a/", HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_no_credentials_get_not_authenticated(client, two_chatbots):
    response = api_get(client, "shop-a")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_revoked_key_stops_working(client, two_chatbots):
    api_key, key = chatbot_api_key_create(chatbot_id="shop-a", name="ERP")
    api_key.revoked = True
    api_key.save()

    assert api_get(client, "shop-a", key).status_code == 401


def test_keys_are_stored_hashed(two_chatbots):
    api_key, key = chatbot_api_key_create(chatbot_id="shop-a", name="ERP")

    stored = ChatbotAPIKey.objects.get(pk=api_key.pk)
    assert key.split(".", 1)[1] not in stored.hashed_key
    assert stored.is_valid(key)


def test_the_api_never_returns_the_pinecone_key(client):
    ChatbotFactory(chatbot_id="shop-a", pinecone_api_key="pcsk-never-in-api-77")
    _, key = chatbot_api_key_create(chatbot_id="shop-a", name="ERP")

    response = api_get(client, "shop-a", key)

    assert "pcsk-never-in-api-77" not in response.content.decode()
    assert response.json()["vector_store"] == "pinecone"


def test_staff_sessions_may_read_every_chatbot(staff_client, two_chatbots):
    assert staff_client.get("/api/v1/chatbots/shop-b/").status_code == 200


def test_an_unknown_chatbot_is_a_clear_404_for_staff(staff_client):
    response = staff_client.get("/api/v1/chatbots/missing/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "chatbot_not_found"


def test_an_inactive_chatbot_answers_as_not_found(client, staff_client):
    ChatbotFactory(chatbot_id="closed-shop", is_active=False)
    _, key = chatbot_api_key_create(chatbot_id="closed-shop", name="ERP")

    response = api_get(client, "closed-shop", key)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "chatbot_not_found"
    assert staff_client.get("/api/v1/chatbots/closed-shop/").status_code == 404


def test_create_api_key_prints_a_working_key_once(client, two_chatbots):
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_key", "shop-b", "--name", "Scripted setup", stdout=out, stderr=err)

    key = out.getvalue().strip()
    assert "shown only this once" in err.getvalue()
    assert api_get(client, "shop-b", key).status_code == 200
    assert ChatbotAPIKey.objects.get(chatbot__chatbot_id="shop-b").name == "Scripted setup"


def test_create_api_key_for_an_unknown_chatbot_fails_clearly():
    with pytest.raises(CommandError, match="There is no chatbot 'ghost'"):
        call_command("create_api_key", "ghost", "--name", "x")
