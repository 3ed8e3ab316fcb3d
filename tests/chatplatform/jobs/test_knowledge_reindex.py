"""The `knowledge_reindex` kind: every document of the chatbot ingested again, progress per document."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chatplatform.errors import ApplicationError
from chatplatform.jobs.models import Job
from chatplatform.jobs.runner import _Context, job_claim, job_run
from chatplatform.jobs.services import job_create
from conversations.knowledge.services import knowledge_document_load
from conversations.models import KnowledgeDocument
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db

TEXT = "# Shipping\n\nWe ship to Denmark and Sweden. Standard delivery costs 49 DKK.\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_it_ingests_each_document_again_and_reports_progress_per_document(monkeypatch):
    chatbot = ChatbotFactory(chatbot_id="vinbar")
    for name in ("a.md", "b.md", "c.md"):
        loaded = knowledge_document_load(
            chatbot=chatbot, flow="default", uploaded_file=SimpleUploadedFile(name, TEXT.encode())
        )
        assert loaded.outcome == "ready"
    KnowledgeDocument.objects.update(status=KnowledgeDocument.Status.FAILED)
    steps = []
    original = _Context.progress

    def recorded(self, percent, message=""):
        steps.append((percent, message))
        original(self, percent, message)

    monkeypatch.setattr(_Context, "progress", recorded)
    job = job_create("knowledge_reindex", {"chatbot": "vinbar"})
    job_run(job_claim())

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    assert job.result == {"documents": 3, "ready": 3, "failed": 0, "missing": 0}
    assert steps == [
        (0, "document 1 of 3"),
        (33, "document 2 of 3"),
        (66, "document 3 of 3"),
        (100, "3 document(s) reindexed"),
    ]
    assert set(KnowledgeDocument.objects.values_list("status", flat=True)) == {KnowledgeDocument.Status.READY}


def test_an_unknown_chatbot_is_refused_before_a_job_is_created():
    with pytest.raises(ApplicationError) as refused:
        job_create("knowledge_reindex", {"chatbot": "nobody"})
    assert "chatbot" in refused.value.fields["payload"]
    assert not Job.objects.exists()
