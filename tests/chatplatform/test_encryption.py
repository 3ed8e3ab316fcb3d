import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from chatplatform import crypto
from conversations.models import ChatbotSettings
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db

SECRET = "pcsk-test-0123456789abcdef"


def raw_column(chatbot_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pinecone_api_key FROM chatbot_settings WHERE chatbot_id = %s", [chatbot_id])
        return cursor.fetchone()[0]


def test_a_raw_sql_read_never_shows_the_plaintext():
    ChatbotFactory(chatbot_id="nordvin", pinecone_api_key=SECRET)

    stored = raw_column("nordvin")

    assert SECRET not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert ChatbotSettings.objects.get(chatbot_id="nordvin").pinecone_api_key == SECRET


def test_each_save_encrypts_differently_so_equal_secrets_do_not_show():
    ChatbotFactory(chatbot_id="a", pinecone_api_key=SECRET)
    ChatbotFactory(chatbot_id="b", pinecone_api_key=SECRET)

    assert raw_column("a") != raw_column("b")


def test_an_empty_secret_is_stored_empty():
    ChatbotFactory(chatbot_id="local-bot", pinecone_api_key="")

    assert raw_column("local-bot") == ""
    assert ChatbotSettings.objects.get(chatbot_id="local-bot").uses_pinecone is False


def test_rotation_moves_every_secret_to_the_new_key(settings, capsys):
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [k1]
    ChatbotFactory(chatbot_id="nordvin", pinecone_api_key=SECRET)
    ChatbotFactory(chatbot_id="no-key", pinecone_api_key="")
    updated_at = ChatbotSettings.objects.get(chatbot_id="nordvin").updated_at

    settings.FIELD_ENCRYPTION_KEYS = [k2, k1]
    assert ChatbotSettings.objects.get(chatbot_id="nordvin").pinecone_api_key == SECRET
    call_command("rotate_encryption_keys")
    assert "1 secret(s) re-encrypted" in capsys.readouterr().out

    settings.FIELD_ENCRYPTION_KEYS = [k2]
    chatbot = ChatbotSettings.objects.get(chatbot_id="nordvin")
    assert chatbot.pinecone_api_key == SECRET
    assert chatbot.updated_at == updated_at
    settings.FIELD_ENCRYPTION_KEYS = [k1]
    with pytest.raises(crypto.DecryptionError):
        ChatbotSettings.objects.get(chatbot_id="nordvin")


def test_rotation_without_the_old_key_fails_and_changes_nothing(settings):
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [k1]
    ChatbotFactory(chatbot_id="nordvin", pinecone_api_key=SECRET)
    before = raw_column("nordvin")

    settings.FIELD_ENCRYPTION_KEYS = [k2]
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("rotate_encryption_keys")

    assert raw_column("nordvin") == before


def test_a_malformed_key_setting_is_reported_clearly(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]

    with pytest.raises(Exception, match="Fernet keys"):
        crypto.encrypt("x")


@pytest.mark.parametrize(
    ("secret", "hint"),
    [("pcsk_abcdefghijklmnop", "pcsk••••••••op"), ("short", "••••••••"), ("", "")],
)
def test_the_mask_shows_only_the_first_four_and_last_two_characters(secret, hint):
    assert crypto.mask(secret) == hint
