"""Ingestion into Pinecone through the real SDK, against the fake Pinecone server."""

import pytest
from celery.exceptions import Retry

from chatplatform.errors import ApplicationError
from chatplatform.vectorstores.base import VectorStoreError
from conversations.knowledge.services import (
    knowledge_document_create,
    knowledge_document_delete,
    knowledge_document_ingest,
)
from conversations.knowledge.tasks import ingest_document
from conversations.models import KnowledgeDocument
from tests.conversations.knowledge.conftest import SHIPPING_MD, long_markdown, upload
from tests.fakes.pinecone_server import FakePineconeServer

pytestmark = pytest.mark.django_db
Status = KnowledgeDocument.Status


@pytest.fixture
def pinecone_chatbot(chatbot, settings, pinecone_server: FakePineconeServer):
    settings.PINECONE_CONTROLLER_HOST = pinecone_server.controller_host
    settings.PINECONE_TIMEOUT_SECONDS = 2.0
    settings.KB_CHUNK_TOKENS = 100
    settings.KB_CHUNK_OVERLAP_TOKENS = 20
    pinecone_server.create_index("vinbar-general", settings.LOCAL_EMBEDDING_DIMENSION)
    chatbot.pinecone_api_key = pinecone_server.api_key
    chatbot.save()
    return chatbot


def create(chatbot, content=SHIPPING_MD) -> KnowledgeDocument:
    return knowledge_document_create(
        chatbot=chatbot, flow="default", uploaded_file=upload("shipping.md", content), enqueue=False
    )


def test_a_document_is_upserted_into_the_chatbots_namespace(pinecone_chatbot, pinecone_server):
    document = knowledge_document_ingest(document_id=create(pinecone_chatbot, long_markdown(10)).pk)

    assert document.status == Status.READY
    stored = pinecone_server.vectors("vinbar-general", "vinbar")
    assert set(stored) == {f"doc{document.pk}-{n}" for n in range(document.chunk_count)}
    assert stored[f"doc{document.pk}-0"]["metadata"] == {
        "text": stored[f"doc{document.pk}-0"]["metadata"]["text"],
        "source": "Wine guide",
        "section": "Wine guide",
        "document_id": document.pk,
        "chunk": 0,
        "flow": "default",
    }
    assert pinecone_server.vectors("vinbar-general", "") == {}


def test_reingesting_a_shorter_version_deletes_the_stale_chunks(pinecone_chatbot, pinecone_server):
    document = knowledge_document_ingest(document_id=create(pinecone_chatbot, long_markdown(10)).pk)
    assert document.chunk_count > 2

    document = knowledge_document_ingest(document_id=create(pinecone_chatbot, "# Short\n\nOne line.").pk)

    assert set(pinecone_server.vectors("vinbar-general", "vinbar")) == {f"doc{document.pk}-0"}
    # New chunks were written before the stale ones were deleted.
    paths = [r.path for r in pinecone_server.requests if r.plane == "data"]
    assert paths[-2:] == ["/vectors/upsert", "/vectors/delete"]


def test_a_pinecone_outage_marks_the_document_failed_and_is_retried(pinecone_chatbot, pinecone_server):
    document = create(pinecone_chatbot)
    pinecone_server.fail_next(1000, status=503, plane="data")

    with pytest.raises(VectorStoreError) as caught:
        knowledge_document_ingest(document_id=document.pk)

    assert not caught.value.permanent
    document.refresh_from_db()
    assert document.status == Status.FAILED
    assert document.error == "Pinecone is unavailable (HTTP 503); try again later."
    assert pinecone_server.api_key not in document.error


def test_the_task_asks_for_a_bounded_retry_of_an_outage(pinecone_chatbot, pinecone_server):
    document = create(pinecone_chatbot)
    pinecone_server.fail_next(1000, status=503, plane="data")

    # Eager tasks raise Retry where a worker would schedule the next attempt.
    with pytest.raises(Retry):
        ingest_document.delay(document.pk)

    assert ingest_document.max_retries == 3
    assert ingest_document.retry_backoff
    pinecone_server.clear_faults()
    ingest_document.delay(document.pk)
    document.refresh_from_db()
    assert document.status == Status.READY


def test_a_rejected_key_fails_the_document_without_retrying(pinecone_chatbot, pinecone_server):
    document = create(pinecone_chatbot)
    pinecone_chatbot.pinecone_api_key = "pcsk_wrong"
    pinecone_chatbot.save()

    ingest_document.delay(document.pk)

    document.refresh_from_db()
    assert document.status == Status.FAILED
    assert document.error == "Pinecone rejected the API key."
    assert "pcsk_wrong" not in document.error


def test_a_missing_index_fails_the_document_with_its_name(pinecone_chatbot, pinecone_server):
    pinecone_server.delete_index("vinbar-general")

    document = knowledge_document_ingest(document_id=create(pinecone_chatbot).pk)

    assert document.status == Status.FAILED
    assert '"vinbar-general" does not exist' in document.error


def test_deleting_removes_the_vectors_from_pinecone(pinecone_chatbot, pinecone_server):
    document = knowledge_document_ingest(document_id=create(pinecone_chatbot, long_markdown(10)).pk)

    knowledge_document_delete(document=document)

    assert pinecone_server.vectors("vinbar-general", "vinbar") == {}
    assert not KnowledgeDocument.objects.exists()


def test_a_document_is_kept_when_pinecone_cannot_delete_its_vectors(pinecone_chatbot, pinecone_server):
    document = knowledge_document_ingest(document_id=create(pinecone_chatbot).pk)
    pinecone_server.fail_next(1000, status=503, plane="data")

    with pytest.raises(ApplicationError) as caught:
        knowledge_document_delete(document=document)

    assert caught.value.code == "vector_store_unavailable"
    assert caught.value.status_code == 503
    assert "could not be deleted" in caught.value.message
    assert KnowledgeDocument.objects.filter(pk=document.pk).exists()


def test_deleting_succeeds_when_the_index_itself_is_gone(pinecone_chatbot, pinecone_server, monkeypatch):
    from chatplatform.vectorstores import pinecone as pinecone_store

    document = knowledge_document_ingest(document_id=create(pinecone_chatbot).pk)
    pinecone_server.delete_index("vinbar-general")
    # A process that has not used the index yet (the web process), so it describes it first.
    monkeypatch.setattr(pinecone_store, "_cache", pinecone_store._SdkCache())

    knowledge_document_delete(document=document)

    assert not KnowledgeDocument.objects.exists()


def test_a_document_is_ingested_as_the_flows_index_layout_says(pinecone_chatbot, pinecone_server):
    # An index the old system built with ada-002 (1536), its records in the default namespace.
    pinecone_server.delete_index("vinbar-general")
    pinecone_server.create_index("vinbar-general", 1536)
    pinecone_chatbot.pinecone_namespace = ""
    pinecone_chatbot.embedding_model = "text-embedding-ada-002"
    pinecone_chatbot.save()

    document = knowledge_document_ingest(document_id=create(pinecone_chatbot).pk)

    assert document.status == Status.READY, document.error
    stored = pinecone_server.vectors("vinbar-general", "")
    assert set(stored) == {f"doc{document.pk}-{n}" for n in range(document.chunk_count)}
    assert {len(vector["values"]) for vector in stored.values()} == {1536}
    assert document.embedding_model.endswith("@1536")
    assert pinecone_server.vectors("vinbar-general", "vinbar") == {}
