"""import_chatbots FILE.sql: the old platform's chatbot_settings statements, read, never executed."""

import io
import logging
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from conversations.models import ChatbotSettings
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db

SEED_SQL = Path(__file__).resolve().parents[1] / "data" / "chatbots" / "chatbot_settings.sql"
FAKE_KEYS = ["fake-pcsk-vinkaelderen-0001", "fake-pcsk-oelbaren-'0002'", "fake-pcsk-kaffe'baren-0003"]


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_chatbots", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path) -> str:
    """The command's whole report of a refused file."""
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_chatbots", path, stdout=io.StringIO(), stderr=err)
    return f"{err.getvalue()}\n{raised.value}"


def write_sql(tmp_path, text: str) -> Path:
    path = tmp_path / "chatbots.sql"
    path.write_text(text)
    return path


def test_it_creates_every_shop_of_the_old_sql_with_the_json_mapping():
    out, _ = run(SEED_SQL)

    assert "4 created, 0 updated, 0 unchanged" in out
    vin = ChatbotSettings.objects.get(chatbot_id="vinkaelderen")
    assert vin.pinecone_api_key == FAKE_KEYS[0]
    assert vin.flow_indexes() == {
        "default": "vinkaelderen-general",
        "flow2": "vinkaelderen-products",
        "flow3": "",
        "flow4": "",
        "apiflow": "vinkaelderen-orders",
    }
    assert vin.name == "vinkaelderen"
    assert vin.flows.count() == 5
    # E'' escapes and doubled quotes are read as PostgreSQL reads them.
    assert ChatbotSettings.objects.get(chatbot_id="oelbaren").pinecone_api_key == FAKE_KEYS[1]
    kaffe = ChatbotSettings.objects.get(chatbot_id="kaffebaren")
    assert kaffe.pinecone_api_key == FAKE_KEYS[2]
    assert (kaffe.pinecone_namespace, kaffe.metadata_text_field, kaffe.metadata_source_field) == (
        "",
        "content",
        "url",
    )
    assert kaffe.embedding_model == "text-embedding-ada-002"
    tehuset = ChatbotSettings.objects.get(chatbot_id="tehuset")
    assert tehuset.name == "Tehuset /* not a comment */ -- nor this"
    assert (tehuset.language, tehuset.pinecone_api_key, tehuset.pinecone_namespace) == ("en", "", None)


def test_keys_from_the_sql_are_stored_encrypted():
    run(SEED_SQL)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pinecone_api_key FROM chatbot_settings")
        stored = " ".join(str(value) for (value,) in cursor.fetchall())
    assert stored.strip()
    assert not any(key in stored for key in FAKE_KEYS)
    assert "pcsk" not in stored


def test_importing_the_sql_twice_changes_nothing():
    run(SEED_SQL)
    before = {bot.chatbot_id: bot.updated_at for bot in ChatbotSettings.objects.all()}

    out, _ = run(SEED_SQL)

    assert "0 created, 0 updated, 4 unchanged" in out
    assert {bot.chatbot_id: bot.updated_at for bot in ChatbotSettings.objects.all()} == before


def test_dry_run_shows_what_the_sql_would_change_and_writes_nothing():
    ChatbotFactory(chatbot_id="oelbaren", knowledgebase_index_endpoint="old-general")

    out, _ = run(SEED_SQL, "--dry-run")

    assert "create vinkaelderen" in out
    assert "update oelbaren: pinecone_api_key, knowledgebase_index_endpoint" in out
    assert "Dry run, nothing written: 3 to create, 1 to update" in out
    assert ChatbotSettings.objects.count() == 1
    assert ChatbotSettings.objects.get().knowledgebase_index_endpoint == "old-general"


def test_an_existing_chatbot_gets_only_the_columns_on_conflict_updates():
    ChatbotFactory(
        chatbot_id="oelbaren",
        name="Ølbaren",
        knowledgebase_index_endpoint="old-general",
        flow2_knowledgebase_index="oelbaren-products",
    )

    run(SEED_SQL)

    oelbaren = ChatbotSettings.objects.get(chatbot_id="oelbaren")
    assert oelbaren.knowledgebase_index_endpoint == "oelbaren-general"
    assert oelbaren.pinecone_api_key == FAKE_KEYS[1]
    # Not in its DO UPDATE SET: the file's '' does not clear it, nor is the name touched.
    assert oelbaren.flow2_knowledgebase_index == "oelbaren-products"
    assert oelbaren.name == "Ølbaren"


def test_do_nothing_leaves_an_existing_chatbot_alone(tmp_path):
    ChatbotFactory(chatbot_id="vinkaelderen", knowledgebase_index_endpoint="kept-general")
    path = write_sql(
        tmp_path,
        "INSERT INTO chatbot_settings (chatbot_id, knowledgebase_index_endpoint) VALUES\n"
        "  ('vinkaelderen', 'new-general'), ('nyt', 'nyt-general')\n"
        "ON CONFLICT (chatbot_id) DO NOTHING;\n",
    )

    out, _ = run(path)

    assert "1 created, 0 updated, 1 unchanged" in out
    assert (
        ChatbotSettings.objects.get(chatbot_id="vinkaelderen").knowledgebase_index_endpoint == "kept-general"
    )


BAD_SQL = """-- line 1
BEGIN;
INSERT INTO chatbot_settings (chatbot_id, knowledgebase_index_endpoint)
VALUES ('good-shop', 'good-general');
INSERT INTO chatbot_settings (chatbot_id, colour) VALUES ('red', 'red');
INSERT INTO orders (id) VALUES (1);
DELETE FROM chatbot_settings;
INSERT INTO chatbot_settings (chatbot_id, name)
VALUES ('fn', lower('X'));
INSERT INTO chatbot_settings (chatbot_id, name)
VALUES ('paren', 'x' 'y' ('z');
INSERT INTO chatbot_settings (chatbot_id, name) VALUES ('short');
INSERT INTO chatbot_settings (chatbot_id) VALUES ('x') ON CONFLICT (name) DO NOTHING;
INSERT INTO chatbot_settings (chatbot_id, name) VALUES ('y', 'Y')
ON CONFLICT (chatbot_id) DO UPDATE SET name = 'fixed';
COMMIT;
"""


def test_every_bad_statement_is_reported_with_its_line_and_nothing_is_written(tmp_path):
    report = refused(write_sql(tmp_path, BAD_SQL))

    assert "line 5: unknown column(s): colour" in report
    assert "line 6: unknown table orders" in report
    assert "line 7: only INSERT INTO chatbot_settings statements are read; not DELETE" in report
    assert "line 9: name must be a literal value" in report
    assert "line 11: malformed statement" in report
    assert "line 12: the row has 1 values for 2 columns" in report
    assert "line 13: ON CONFLICT must name (chatbot_id)" in report
    assert "line 15: ON CONFLICT may only SET column = EXCLUDED.column" in report
    assert "line 4" not in report
    assert not ChatbotSettings.objects.exists()


def test_bad_values_are_reported_with_the_line_of_their_row(tmp_path):
    path = write_sql(
        tmp_path,
        "INSERT INTO chatbot_settings (chatbot_id, flow2_knowledgebase_index, is_active) VALUES\n"
        "  ('fine', 'fine-products', TRUE),\n"
        "  ('bad', 'Not_Valid', 1),\n"
        "  ('flag', NULL, 'perhaps');\n",
    )

    report = refused(path)

    assert "line 3 (bad): flow2_knowledgebase_index: Index names use" in report
    assert "line 4 (flag): is_active must be true or false" in report
    assert not ChatbotSettings.objects.exists()


def test_an_unclosed_string_is_reported_where_it_opens(tmp_path):
    path = write_sql(
        tmp_path,
        "INSERT INTO chatbot_settings (chatbot_id, pinecone_api_key) VALUES\n"
        "  ('a', 'fake-pcsk-a'),\n"
        "  ('b', 'fake-pcsk-unclosed-secret-0004);\n"
        "\n",
    )

    report = refused(path)

    assert "line 3: a quoted string, identifier or comment is not closed" in report
    assert "fake-pcsk-unclosed-secret-0004" not in report


def test_a_file_without_inserts_is_refused(tmp_path):
    assert "no INSERT INTO chatbot_settings" in refused(write_sql(tmp_path, "-- nothing\n/* here */\n"))


def test_nothing_prints_or_logs_a_key(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "fake-pcsk-never-shown-0005"
    malformed = tmp_path / "malformed.sql"
    malformed.write_text(SEED_SQL.read_text().replace("0001'", "0001' 'junk'"))
    invalid = tmp_path / "invalid.sql"
    invalid.write_text(SEED_SQL.read_text().replace("'da'", f"'{secret}'"))
    changed = tmp_path / "changed.sql"
    changed.write_text(SEED_SQL.read_text().replace("0001", "0009"))
    seed = tmp_path / "seed.sql"
    shutil.copy(SEED_SQL, seed)

    printed = [
        refused(invalid),  # before the seed, while the chatbot is new and takes every column
        refused(malformed),
        *run(seed, "--dry-run"),
        *run(seed),
        *run(changed, "--verbosity", "2"),
    ]

    everything = "\n".join([*printed, caplog.text])
    assert "update vinkaelderen: pinecone_api_key" in everything
    assert "line 8: pinecone_api_key must be a literal value" in everything
    assert "line 27 (kaffebaren): language:" in everything
    for key in [*FAKE_KEYS, secret, "fake-pcsk-vinkaelderen-0009"]:
        assert key not in everything


def test_an_export_of_imported_shops_keeps_the_layout_and_imports_back_unchanged(tmp_path):
    run(SEED_SQL)
    path = tmp_path / "export.csv"
    call_command("export_chatbots", "--format", "csv", "--output", path, stdout=io.StringIO())

    exported = path.read_text()
    out, _ = run(path)

    assert ",__default__,content,title,url,text-embedding-ada-002" in exported
    assert "0 created, 0 updated, 4 unchanged" in out
    assert ChatbotSettings.objects.get(chatbot_id="kaffebaren").pinecone_namespace == ""
    assert ChatbotSettings.objects.get(chatbot_id="tehuset").pinecone_namespace is None
