"""The demo knowledge base that `manage.py load_demo_data` (and so `make run`) loads."""

import io
import json
import logging

import pytest
from django.core.management import call_command

from chatplatform.models import LocalVector
from conversations.demo import DEMO_DIR, demo_knowledge_base_load
from conversations.models import KnowledgeDocument

pytestmark = pytest.mark.django_db

MANIFEST = json.loads((DEMO_DIR / "nordvin" / "manifest.json").read_text())


def load(caplog) -> str:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="conversations.demo"):
        call_command("load_demo_data", stdout=io.StringIO())
    return caplog.text


def test_the_demo_documents_are_ingested_into_their_flows_indexes(caplog):
    log = load(caplog)

    documents = KnowledgeDocument.objects.filter(chatbot__chatbot_id="nordvin")
    expected = sum(len(files) for files in MANIFEST["documents"].values())
    assert documents.count() == expected
    assert set(documents.values_list("status", flat=True)) == {"ready"}
    assert f"{expected} ingested, 0 unchanged, 0 failed" in log
    pairing = documents.filter(flow="flow3").values_list("source_name", flat=True)
    assert sorted(pairing) == sorted(MANIFEST["documents"]["nordvin-pairing"])
    indexes = set(LocalVector.objects.filter(namespace="nordvin").values_list("index_name", flat=True))
    assert indexes == set(MANIFEST["documents"])


def test_loading_the_demo_again_changes_nothing(caplog):
    load(caplog)
    rows = list(LocalVector.objects.order_by("pk").values_list("pk", "updated_at"))
    documents = list(KnowledgeDocument.objects.order_by("pk").values_list("pk", "updated_at", "file"))

    log = load(caplog)

    assert "0 ingested, 17 unchanged, 0 failed" in log
    assert list(LocalVector.objects.order_by("pk").values_list("pk", "updated_at")) == rows
    assert list(KnowledgeDocument.objects.order_by("pk").values_list("pk", "updated_at", "file")) == documents


def test_a_failed_demo_document_is_loaded_again(caplog):
    load(caplog)
    KnowledgeDocument.objects.filter(source_name="shipping.md").update(status="failed")

    assert "1 ingested, 16 unchanged" in load(caplog)


def test_a_demo_index_that_no_flow_uses_is_reported(caplog):
    load(caplog)
    from conversations.models import ChatbotSettings

    ChatbotSettings.objects.filter(chatbot_id="nordvin").update(flow4_knowledgebase_index="")

    report = demo_knowledge_base_load()

    assert report.failed == ["nordvin-events: no flow of nordvin uses this index"]
    assert len(report.unchanged) == 15
