import contextlib
import csv
import io
import json
import os
import resource
import signal
import stat

import pytest
from django.core.management import CommandError, call_command

from conversations.models import ChatbotSettings
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db

ROWS = [
    {
        "chatbot_id": "nordvin",
        "pinecone_api_key": "pcsk-import-secret-0001",
        "knowledgebase_index_endpoint": "nordvin-general",
        "flow2_knowledgebase_index": "nordvin-products",
        "flow3_knowledgebase_index": "nordvin-pairing",
        "flow4_knowledgebase_index": "nordvin-events",
        "apiflow_knowledgebase_index": "nordvin-orders",
        "updated_at": "2024-01-01T00:00:00Z",
        "name": "Nordvin",
        "language": "da",
        "topics": ["Levering", "Returnering"],
        "allowed_origins": ["https://nordvin.example"],
    },
    {"chatbot_id": "bryggeriet", "name": "Bryggeriet", "language": "en"},
]


def write_json(tmp_path, rows, name="chatbots.json"):
    path = tmp_path / name
    path.write_text(json.dumps(rows, indent=2))
    return path


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_creates_chatbots_from_json(tmp_path):
    out, _ = run("import_chatbots", write_json(tmp_path, ROWS))

    assert "2 created, 0 updated, 0 unchanged" in out
    nordvin = ChatbotSettings.objects.get(chatbot_id="nordvin")
    assert nordvin.pinecone_api_key == "pcsk-import-secret-0001"
    assert nordvin.flow_indexes()["apiflow"] == "nordvin-orders"
    assert nordvin.topics == ["Levering", "Returnering"]
    assert ChatbotSettings.objects.get(chatbot_id="bryggeriet").language == "en"


def test_importing_twice_changes_nothing(tmp_path):
    path = write_json(tmp_path, ROWS)
    run("import_chatbots", path)
    before = {bot.chatbot_id: bot.updated_at for bot in ChatbotSettings.objects.all()}

    out, _ = run("import_chatbots", path)

    assert "0 created, 0 updated, 2 unchanged" in out
    assert {bot.chatbot_id: bot.updated_at for bot in ChatbotSettings.objects.all()} == before


def test_it_updates_only_what_changed_and_names_the_fields(tmp_path):
    run("import_chatbots", write_json(tmp_path, ROWS))
    changed = [{**ROWS[0], "flow3_knowledgebase_index": "nordvin-food", "pinecone_api_key": "pcsk-new-0002"}]

    out, _ = run("import_chatbots", write_json(tmp_path, changed, "changed.json"))

    assert "update nordvin: pinecone_api_key, flow3_knowledgebase_index" in out
    assert "pcsk-new-0002" not in out
    nordvin = ChatbotSettings.objects.get(chatbot_id="nordvin")
    assert nordvin.flow3_knowledgebase_index == "nordvin-food"
    assert nordvin.pinecone_api_key == "pcsk-new-0002"


def test_dry_run_shows_the_changes_and_writes_nothing(tmp_path):
    out, _ = run("import_chatbots", write_json(tmp_path, ROWS), "--dry-run")

    assert "create nordvin" in out
    assert "Dry run, nothing written: 2 to create" in out
    assert not ChatbotSettings.objects.exists()


def test_bad_rows_are_all_reported_with_their_lines_and_nothing_is_written(tmp_path):
    rows = [
        ROWS[0],
        {"chatbot_id": "Bad Id!", "name": "x"},
        {"name": "no id"},
        {"chatbot_id": "fine-one", "flow2_knowledgebase_index": "Not_Valid"},
        {"chatbot_id": "nordvin", "name": "duplicate"},
        {"chatbot_id": "colour", "colour": "red"},
        {"chatbot_id": "flag", "is_active": "perhaps"},
    ]
    path = write_json(tmp_path, rows)
    err = io.StringIO()

    with pytest.raises(CommandError, match="6 bad row"):
        call_command("import_chatbots", path, stdout=io.StringIO(), stderr=err)

    report = err.getvalue()
    lines = [line for line in report.splitlines() if line.startswith("line ")]
    assert len(lines) == 6
    object_lines = [n for n, text in enumerate(path.read_text().splitlines(), 1) if text == "  {"]
    assert f"line {object_lines[1]} (Bad Id!): chatbot_id:" in report
    assert "chatbot_id is required" in report
    assert "flow2_knowledgebase_index: Index names use" in report
    assert "chatbot_id appears twice (first on line 2)" in report
    assert "unknown column(s): colour" in report
    assert "is_active must be true or false" in report
    assert not ChatbotSettings.objects.exists()


def test_csv_import_reads_lists_and_reports_csv_lines(tmp_path):
    path = tmp_path / "chatbots.csv"
    path.write_text(
        "chatbot_id,name,language,topics,allowed_origins,is_active\n"
        "nordvin,Nordvin,da,Levering|Betaling,https://a.example|https://b.example,true\n"
        "bad_id,Bad,da,,,yes\n"
    )

    with pytest.raises(CommandError):
        call_command("import_chatbots", path, stdout=io.StringIO(), stderr=(err := io.StringIO()))
    assert err.getvalue().startswith("line 3 (bad_id)")

    path.write_text(path.read_text().replace("bad_id", "bad-id"))
    run("import_chatbots", path)
    nordvin = ChatbotSettings.objects.get(chatbot_id="nordvin")
    assert nordvin.topics == ["Levering", "Betaling"]
    assert nordvin.allowed_origins == ["https://a.example", "https://b.example"]


def test_a_file_that_is_not_json_or_csv_is_refused(tmp_path):
    path = tmp_path / "chatbots.json"
    path.write_text('[{"chatbot_id": "x",}]')

    with pytest.raises(CommandError, match="invalid JSON at line 1"):
        call_command("import_chatbots", path)


def test_export_leaves_secrets_out_unless_asked():
    ChatbotFactory(chatbot_id="nordvin", pinecone_api_key="pcsk-export-secret-9")

    plain, _ = run("export_chatbots")
    with_secrets, _ = run("export_chatbots", "--include-secrets")

    assert "pcsk-export-secret-9" not in plain
    assert "pinecone_api_key" not in json.loads(plain)[0]
    assert json.loads(with_secrets)[0]["pinecone_api_key"] == "pcsk-export-secret-9"
    assert json.loads(plain)[0]["knowledgebase_index_endpoint"] == "nordvin-general"


def test_an_export_imports_back_unchanged_and_keeps_the_stored_secret(tmp_path):
    ChatbotFactory(chatbot_id="nordvin", pinecone_api_key="pcsk-keep-me-0003")
    ChatbotFactory(chatbot_id="other")
    for fmt in ("json", "csv"):
        path = tmp_path / f"export.{fmt}"
        run("export_chatbots", "--format", fmt, "--output", path)

        out, _ = run("import_chatbots", path)

        assert "0 created, 0 updated, 2 unchanged" in out
    assert ChatbotSettings.objects.get(chatbot_id="nordvin").pinecone_api_key == "pcsk-keep-me-0003"


def test_csv_export_has_the_seed_columns_first():
    ChatbotFactory(chatbot_id="nordvin")

    out, _ = run("export_chatbots", "--format", "csv")

    header = next(csv.reader(io.StringIO(out)))
    assert header[:7] == [
        "chatbot_id",
        "knowledgebase_index_endpoint",
        "flow2_knowledgebase_index",
        "flow3_knowledgebase_index",
        "flow4_knowledgebase_index",
        "apiflow_knowledgebase_index",
        "updated_at",
    ]


@contextlib.contextmanager
def failing_file_writes():
    """Writes past the first 16 bytes of any file fail (EFBIG), as on a full disk."""
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, limits[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)


@pytest.mark.parametrize("existing", [False, True], ids=["new_file", "existing_readable_file"])
def test_an_export_with_secrets_is_owner_only_before_its_first_byte(tmp_path, existing):
    ChatbotFactory(chatbot_id="nordvin", pinecone_api_key="pcsk-export-secret-9")
    path = tmp_path / "export.json"
    if existing:
        path.write_text("")
        path.chmod(0o644)
    umask = os.umask(0o022)

    # The write fails midway: what reached the disk must already be unreadable to others.
    try:
        with failing_file_writes(), pytest.raises(CommandError, match="Could not write"):
            run("export_chatbots", "--include-secrets", "--output", path)
    finally:
        os.umask(umask)

    assert path.read_text()  # part of the export was written
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_export_without_secrets_keeps_the_usual_file_mode(tmp_path):
    ChatbotFactory(chatbot_id="nordvin")
    path = tmp_path / "export.json"
    umask = os.umask(0o022)
    try:
        run("export_chatbots", "--output", path)
    finally:
        os.umask(umask)

    assert stat.S_IMODE(path.stat().st_mode) == 0o644
