import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.core.serializers.base import DeserializationError
from django.db import connection

from chatplatform import crypto
from conversations.models import ChatbotSettings
from tests.conversations.factories import ChatbotFactory
from tests.tracking.factories import CommerceIntegrationFactory
from tracking.models import CommerceIntegration

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


CREDENTIALS = '{"access_token": "shpat_dump_test_0123456789"}'


def dump(tmp_path, name="secrets.json") -> Path:
    path = tmp_path / name
    call_command(
        "dumpdata", "conversations.chatbotsettings", "tracking.commerceintegration", output=str(path)
    )
    return path


def test_dumpdata_writes_secrets_as_ciphertext_only(tmp_path):
    chatbot = ChatbotFactory(chatbot_id="nordvin", pinecone_api_key=SECRET)
    CommerceIntegrationFactory(chatbot=chatbot, credentials=CREDENTIALS)

    text = dump(tmp_path).read_text()

    assert SECRET not in text
    assert "shpat_dump_test" not in text
    rows = {row["model"]: row["fields"] for row in json.loads(text)}
    assert crypto.decrypt(rows["conversations.chatbotsettings"]["pinecone_api_key"]) == SECRET
    assert crypto.decrypt(rows["tracking.commerceintegration"]["credentials"]) == CREDENTIALS


def test_loaddata_reads_a_dump_back_encrypted_once(tmp_path):
    chatbot = ChatbotFactory(chatbot_id="nordvin", pinecone_api_key=SECRET)
    CommerceIntegrationFactory(chatbot=chatbot, credentials=CREDENTIALS)
    ChatbotFactory(chatbot_id="no-key", pinecone_api_key="")
    path = dump(tmp_path)
    ChatbotSettings.objects.all().delete()

    call_command("loaddata", str(path), verbosity=0)

    assert ChatbotSettings.objects.get(chatbot_id="nordvin").pinecone_api_key == SECRET
    assert ChatbotSettings.objects.get(chatbot_id="no-key").pinecone_api_key == ""
    assert CommerceIntegration.objects.get(chatbot__chatbot_id="nordvin").credentials == CREDENTIALS
    assert crypto.decrypt(raw_column("nordvin")) == SECRET  # one layer of encryption
    assert raw_column("no-key") == ""


def test_loaddata_refuses_a_dump_made_with_another_key(tmp_path, settings):
    ChatbotFactory(chatbot_id="nordvin", pinecone_api_key=SECRET)
    path = dump(tmp_path)
    ChatbotSettings.objects.all().delete()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(DeserializationError, match="cannot be decrypted"):
        call_command("loaddata", str(path), verbosity=0)

    assert not ChatbotSettings.objects.exists()


def test_a_typed_secret_is_never_mistaken_for_ciphertext():
    for typed in [SECRET, CREDENTIALS, "gAAAAA-short", "gAAAAA" + "A" * 100]:
        assert ChatbotSettings._meta.get_field("pinecone_api_key").to_python(typed) == typed
