import pytest

from chatplatform.celery import app
from conversations.knowledge.services import knowledge_document_create
from conversations.knowledge.tasks import ingest_document
from conversations.models import KnowledgeDocument
from tests.conversations.knowledge.conftest import SHIPPING_MD, upload

pytestmark = pytest.mark.django_db


def test_the_ingestion_task_runs_on_the_ingestion_queue_and_is_discovered():
    route = app.amqp.router.route({}, ingest_document.name, args=(1,), kwargs={})

    assert route["queue"].name == "ingestion"
    assert "conversations.knowledge.tasks.ingest_document" in app.tasks
    assert ingest_document.acks_late


def test_the_task_ingests_a_document(chatbot):
    document = knowledge_document_create(
        chatbot=chatbot, flow="default", uploaded_file=upload("a.md", SHIPPING_MD), enqueue=False
    )

    ingest_document.delay(document.pk)

    document.refresh_from_db()
    assert document.status == KnowledgeDocument.Status.READY


def test_a_document_deleted_before_the_worker_ran_is_skipped():
    ingest_document.delay(999_999)  # no error, nothing to retry
