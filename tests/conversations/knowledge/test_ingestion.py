"""Upload, ingestion, re-ingestion and deletion of documents, into the local vector store."""

import pytest

from chatplatform import telemetry
from chatplatform.ai import get_embedder
from chatplatform.errors import ApplicationError
from chatplatform.models import LocalVector
from conversations.knowledge.services import (
    knowledge_document_create,
    knowledge_document_delete,
    knowledge_document_ingest,
    knowledge_document_update,
    knowledge_documents_reingest,
)
from conversations.knowledge.stores import flow_index_name, vector_store_for
from conversations.models import KnowledgeDocument
from tests.conversations.factories import ChatbotFactory
from tests.conversations.knowledge.conftest import DATA, SHIPPING_MD, long_markdown, upload

pytestmark = pytest.mark.django_db
Status = KnowledgeDocument.Status


@pytest.fixture(autouse=True)
def _small_chunks(settings):
    settings.KB_CHUNK_TOKENS = 100
    settings.KB_CHUNK_OVERLAP_TOKENS = 20


def create(chatbot, name="shipping.md", content=SHIPPING_MD, flow="default", **kwargs):
    return knowledge_document_create(
        chatbot=chatbot, flow=flow, uploaded_file=upload(name, content), **kwargs
    )


@pytest.fixture
def ingested(chatbot, django_capture_on_commit_callbacks):
    """Upload and ingest (the task runs eagerly once the upload commits)."""

    def ingest(*args, **kwargs) -> KnowledgeDocument:
        with django_capture_on_commit_callbacks(execute=True):
            document = create(chatbot, *args, **kwargs)
        document.refresh_from_db()
        return document

    return ingest


def vector_ids(index: str, namespace: str = "vinbar") -> set[str]:
    return set(
        LocalVector.objects.filter(index_name=index, namespace=namespace).values_list("vector_id", flat=True)
    )


def search(chatbot, index: str, question: str, top_k: int = 3):
    [vector] = get_embedder().embed([question])
    return vector_store_for(chatbot=chatbot, index_name=index).query(vector, top_k=top_k)


def test_an_upload_is_stored_pending_and_queued_on_commit(
    chatbot, django_capture_on_commit_callbacks, media_files
):
    with django_capture_on_commit_callbacks() as callbacks:
        document = create(chatbot, title="Fragt")

    assert len(callbacks) == 1
    assert document.status == Status.PENDING
    assert document.title == "Fragt"
    assert document.source_name == "shipping.md"
    assert document.size == len(SHIPPING_MD.encode())
    assert len(document.sha256) == 64
    assert document.content_type == "text/markdown"
    assert [path.name for path in media_files()] == ["shipping.md"]
    assert not LocalVector.objects.exists()


def test_an_upload_without_title_is_titled_by_its_first_heading(chatbot):
    assert create(chatbot).title == "Shipping"
    assert create(chatbot, name="notes.txt", content="no heading here").title == "notes.txt"


def test_ingestion_chunks_embeds_and_stores_the_document(ingested, chatbot):
    document = ingested(content=long_markdown(12))

    assert document.status == Status.READY
    assert document.error == ""
    assert document.chunk_count > 2
    assert document.indexed_in == "vinbar-general"
    assert document.indexed_chunks == document.chunk_count
    assert document.embedding_model == "local@512"
    assert vector_ids("vinbar-general") == {f"doc{document.pk}-{n}" for n in range(document.chunk_count)}
    row = LocalVector.objects.get(vector_id=f"doc{document.pk}-0")
    assert row.metadata == {
        "text": row.metadata["text"],
        "source": "Wine guide",
        "section": "Wine guide",
        "document_id": document.pk,
        "chunk": 0,
        "flow": "default",
    }
    assert row.metadata["text"].startswith("# Wine guide\n\nParagraph 0")


def test_an_ingested_document_is_found_by_its_chatbot(ingested, chatbot):
    ingested()

    [best, *_] = search(chatbot, "vinbar-general", "How much is express delivery in Copenhagen?")

    assert "149 DKK" in best.metadata["text"]
    assert best.metadata["source"] == "Shipping"


def test_a_document_goes_into_its_flows_index(ingested):
    document = ingested(flow="flow3")

    assert document.indexed_in == "vinbar-pairing"
    assert vector_ids("vinbar-pairing")
    assert not vector_ids("vinbar-general")


def test_a_flow_without_an_index_is_refused(chatbot, media_files):
    with pytest.raises(ApplicationError) as caught:
        create(chatbot, flow="flow4")

    assert caught.value.code == "flow_index_not_configured"
    assert not KnowledgeDocument.objects.exists()
    assert media_files() == []


def test_a_refused_file_leaves_nothing_behind(chatbot, media_files):
    with pytest.raises(ApplicationError) as caught:
        create(chatbot, name="virus.exe", content=b"MZ\x00\x01")

    assert caught.value.code == "unsupported_document_type"
    assert not KnowledgeDocument.objects.exists()
    assert media_files() == []


def test_reuploading_a_name_replaces_the_file_and_its_chunks(ingested, chatbot, media_files):
    first = ingested(content=long_markdown(12), title="Guide")
    assert first.chunk_count > 2
    old_file = first.file.name

    second = ingested(content="# Wine guide\n\nNow a single short paragraph.")

    assert second.pk == first.pk
    assert second.title == "Guide"  # kept: no new title was given
    assert second.chunk_count == 1
    assert vector_ids("vinbar-general") == {f"doc{first.pk}-0"}
    assert LocalVector.objects.get().metadata["text"].endswith("Now a single short paragraph.")
    assert [path.name for path in media_files()] == [second.file.name.rsplit("/", 1)[-1]]
    assert second.file.name != old_file
    assert KnowledgeDocument.objects.count() == 1


def test_the_same_name_in_another_flow_is_another_document(ingested):
    general = ingested()
    pairing = ingested(flow="flow3")

    assert general.pk != pairing.pk
    assert KnowledgeDocument.objects.count() == 2


def test_reingesting_after_the_flows_index_changed_moves_the_vectors(ingested, chatbot):
    document = ingested(content=long_markdown(8))
    chatbot.knowledgebase_index_endpoint = "vinbar-general-v2"
    chatbot.save()

    with pytest.raises(ApplicationError):
        vector_store_for(chatbot=chatbot, index_name="vinbar-general")  # no longer configured

    document = knowledge_document_ingest(document_id=document.pk)

    assert document.indexed_in == "vinbar-general-v2"
    assert vector_ids("vinbar-general") == set()
    assert len(vector_ids("vinbar-general-v2")) == document.chunk_count


def test_a_failed_ingestion_keeps_the_previous_vectors_and_says_why(ingested, chatbot):
    document = ingested()
    before = vector_ids("vinbar-general")
    chatbot.knowledgebase_index_endpoint = ""
    chatbot.save()

    document = knowledge_document_ingest(document_id=document.pk)

    assert document.status == Status.FAILED
    assert "has no knowledge-base index" in document.error
    assert vector_ids("vinbar-general") == before


def test_a_document_whose_file_vanished_fails_clearly(ingested):
    document = ingested()
    document.file.storage.delete(document.file.name)

    document = knowledge_document_ingest(document_id=document.pk)

    assert document.status == Status.FAILED
    assert document.error == "The stored file of this document is missing; upload it again."


def test_ingesting_a_deleted_document_is_refused():
    with pytest.raises(ApplicationError) as caught:
        knowledge_document_ingest(document_id=12345)

    assert caught.value.code == "document_not_found"


def test_progress_is_reported_per_batch(ingested, chatbot):
    document = ingested(content=long_markdown(12))
    calls = []

    knowledge_document_ingest(
        document_id=document.pk, progress=lambda done, total: calls.append((done, total))
    )

    assert calls[0] == (0, document.chunk_count)
    assert calls[-1] == (document.chunk_count, document.chunk_count)


def test_the_documents_progress_is_stored_as_it_is_ingested(ingested):
    document = ingested(content=long_markdown(12))
    assert (document.status, document.progress) == (Status.READY, 100)
    seen = []

    def watch(done, total):
        seen.append(KnowledgeDocument.objects.values_list("status", "progress").get(pk=document.pk))

    knowledge_document_ingest(document_id=document.pk, progress=watch)

    assert seen[0] == (Status.PROCESSING, 20)
    assert [percent for _, percent in seen] == sorted(percent for _, percent in seen)
    assert seen[-1] == (Status.PROCESSING, 100)
    document.refresh_from_db()
    assert (document.status, document.progress) == (Status.READY, 100)


def test_queueing_a_document_again_resets_its_progress(ingested, django_capture_on_commit_callbacks):
    document = ingested()

    with django_capture_on_commit_callbacks():
        knowledge_documents_reingest(documents=[document])

    document.refresh_from_db()
    assert (document.status, document.progress) == (Status.PENDING, 0)


def test_reingest_queues_documents_again(ingested, django_capture_on_commit_callbacks):
    document = ingested()

    with django_capture_on_commit_callbacks() as callbacks:
        assert knowledge_documents_reingest(documents=[document]) == 1
    document.refresh_from_db()
    assert document.status == Status.PENDING

    for callback in callbacks:
        callback()
    document.refresh_from_db()
    assert document.status == Status.READY


def test_renaming_a_document_updates_the_source_of_its_vectors(ingested, django_capture_on_commit_callbacks):
    document = ingested()

    with django_capture_on_commit_callbacks(execute=True):
        knowledge_document_update(document=document, title="Levering")

    assert {row.metadata["source"] for row in LocalVector.objects.all()} == {"Levering"}


def test_deleting_a_document_removes_its_vectors_file_and_row(
    ingested, chatbot, django_capture_on_commit_callbacks, media_files
):
    keep = ingested(name="returns.md", content="# Returns\n\nWithin 30 days.")
    document = ingested(content=long_markdown(8))

    with django_capture_on_commit_callbacks(execute=True):
        knowledge_document_delete(document=document)

    assert not KnowledgeDocument.objects.filter(pk=document.pk).exists()
    assert vector_ids("vinbar-general") == {f"doc{keep.pk}-0"}
    assert [path.name for path in media_files()] == ["returns.md"]
    assert all(
        m.metadata["document_id"] == keep.pk for m in search(chatbot, "vinbar-general", "grape harvest")
    )


def test_deleting_finds_vectors_left_in_a_previous_index(
    ingested, chatbot, django_capture_on_commit_callbacks
):
    document = ingested()
    chatbot.knowledgebase_index_endpoint = "vinbar-general-v2"
    chatbot.save()
    document.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        knowledge_document_delete(document=document)

    assert not LocalVector.objects.exists()


def test_a_chatbot_never_gets_another_chatbots_vectors(ingested, chatbot, django_capture_on_commit_callbacks):
    ingested()
    # Another shop that configured the very same index name.
    rival = ChatbotFactory(chatbot_id="rival", knowledgebase_index_endpoint="vinbar-general")
    with django_capture_on_commit_callbacks(execute=True):
        knowledge_document_create(
            chatbot=rival,
            flow="default",
            uploaded_file=upload("rival.md", "# Rival\n\nExpress costs 10 DKK."),
        )

    mine = search(chatbot, "vinbar-general", "express delivery price", top_k=10)
    theirs = search(rival, "vinbar-general", "express delivery price", top_k=10)

    assert mine
    assert all("Rival" not in m.metadata["text"] for m in mine)
    assert [m.metadata["source"] for m in theirs] == ["Rival"]


def test_a_chatbot_cannot_name_an_index_it_does_not_configure(chatbot):
    with pytest.raises(ApplicationError) as caught:
        vector_store_for(chatbot=chatbot, index_name="rival-general")

    assert caught.value.code == "flow_index_not_configured"


def test_flow_index_name_explains_a_missing_index(chatbot):
    assert flow_index_name(chatbot, "flow2") == "vinbar-products"
    with pytest.raises(ApplicationError, match="flow4"):
        flow_index_name(chatbot, "flow4")
    with pytest.raises(ApplicationError) as caught:
        flow_index_name(chatbot, "nonsense")
    assert caught.value.code == "flow_unknown"


def test_every_supported_type_is_ingested(ingested):
    pdf = ingested(name="photosynthesis.pdf", content=(DATA / "photosynthesis.pdf").read_bytes())
    docx = ingested(name="french-revolution.docx", content=(DATA / "french-revolution.docx").read_bytes())
    html = ingested(name="faq.html", content="<h1>FAQ</h1><p>We answer within a day.</p>")

    assert {pdf.status, docx.status, html.status} == {Status.READY}
    assert docx.title == "The French Revolution (1789-1799)"
    assert pdf.content_type == "application/pdf"
    sections = set(
        LocalVector.objects.filter(metadata__document_id=docx.pk).values_list("metadata__section", flat=True)
    )
    assert "The storming of the Bastille" in sections or "Causes" in sections


@pytest.fixture
def openai_embeddings(settings, openai_server):
    from chatplatform.ai import reset_providers

    settings.AI_PROVIDER = "openai"
    settings.OPENAI_API_KEY = openai_server.api_key
    settings.OPENAI_BASE_URL = openai_server.base_url
    settings.OPENAI_MAX_RETRIES = 0
    settings.OPENAI_TIMEOUT_SECONDS = 2.0
    reset_providers()
    return openai_server


def test_an_embedding_outage_fails_the_document_and_keeps_its_previous_vectors(ingested, openai_embeddings):
    from chatplatform.ai.base import ProviderError

    document = ingested(content=long_markdown(8))
    assert document.embedding_model == "openai/text-embedding-3-small@1536"
    before = {row.vector_id: bytes(row.values) for row in LocalVector.objects.all()}
    openai_embeddings.script(status=503)

    with pytest.raises(ProviderError):
        knowledge_document_ingest(document_id=document.pk)

    document.refresh_from_db()
    assert document.status == Status.FAILED
    assert document.error.startswith("Embedding failed: ")
    assert openai_embeddings.api_key not in document.error
    assert {row.vector_id: bytes(row.values) for row in LocalVector.objects.all()} == before


def test_a_rejected_embedding_key_fails_the_document_without_asking_for_a_retry(ingested, openai_embeddings):
    document = ingested(content=long_markdown(3))
    openai_embeddings.script(status=401)

    document = knowledge_document_ingest(document_id=document.pk)  # returns: nothing to retry

    assert document.status == Status.FAILED
    assert document.error.startswith("Embedding failed: ")


def test_the_calls_of_an_ingestion_are_recorded_for_its_chatbot(ingested, chatbot, settings):
    settings.TELEMETRY_ENABLED = True
    records = []
    unsubscribe = telemetry.subscribe(records.append)
    try:
        ingested(content=long_markdown(3))
    finally:
        unsubscribe()

    assert {"embeddings", "vector_upsert"} <= {record.operation for record in records}
    assert {(r.tenant_type, r.tenant_id, r.feature) for r in records} == {("chatbot", "vinbar", "ingestion")}
