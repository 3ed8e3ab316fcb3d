"""Knowledge documents in admin: upload, list, re-ingest and delete through the services."""

import pytest

from chatplatform.models import LocalVector
from conversations.models import KnowledgeDocument
from tests.conversations.knowledge.conftest import SHIPPING_MD, upload

pytestmark = pytest.mark.django_db

BASE = "/admin/conversations/knowledgedocument/"


@pytest.fixture
def admin_upload(staff_client, chatbot, django_capture_on_commit_callbacks):
    def send(name="shipping.md", content=SHIPPING_MD, flow="default", title=""):
        data = {"chatbot": chatbot.pk, "flow": flow, "title": title, "upload": upload(name, content)}
        with django_capture_on_commit_callbacks(execute=True):
            return staff_client.post(f"{BASE}add/", data)

    return send


def test_staff_upload_a_document_and_it_is_ingested(admin_upload):
    response = admin_upload(title="Fragt")

    assert response.status_code == 302
    document = KnowledgeDocument.objects.get()
    assert document.title == "Fragt"
    assert document.status == KnowledgeDocument.Status.READY
    assert LocalVector.objects.filter(namespace="vinbar", index_name="vinbar-general").count() == 1


def test_the_upload_form_shows_refusals_next_to_their_fields(admin_upload, media_files):
    bad_file = admin_upload(name="tool.exe", content=b"MZ\x00\x00")
    no_index = admin_upload(flow="flow4")

    assert bad_file.status_code == no_index.status_code == 200
    assert "is not a supported document" in bad_file.content.decode()
    assert "has no knowledge-base index" in no_index.content.decode()
    assert not KnowledgeDocument.objects.exists()
    assert media_files() == []


def test_the_list_shows_status_chunks_and_a_short_error(admin_upload, staff_client):
    admin_upload()
    admin_upload(name="b.md", content="# B\n\nb")
    KnowledgeDocument.objects.filter(source_name="b.md").update(
        status="failed", error="Pinecone " + "x" * 200
    )

    html = staff_client.get(BASE).content.decode()

    assert "Shipping" in html
    assert "vinbar" in html
    assert "ready" in html.lower()
    assert "Pinecone xxx" in html
    assert "x" * 100 not in html
    assert staff_client.get(BASE, {"status__exact": "failed"}).content.decode().count("Pinecone xxx") == 1


def test_the_change_page_shows_status_fields_read_only(admin_upload, staff_client):
    admin_upload()
    document = KnowledgeDocument.objects.get()

    html = staff_client.get(f"{BASE}{document.pk}/change/").content.decode()

    assert 'name="title"' in html
    assert 'name="status"' not in html
    assert 'name="chunk_count"' not in html
    assert "local@512" in html


def test_renaming_in_admin_reingests_the_document(
    admin_upload, staff_client, django_capture_on_commit_callbacks
):
    admin_upload()
    document = KnowledgeDocument.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{BASE}{document.pk}/change/", {"title": "Levering"})

    assert response.status_code == 302
    assert LocalVector.objects.get().metadata["source"] == "Levering"


def test_the_reingest_action_queues_the_selected_documents(
    admin_upload, staff_client, django_capture_on_commit_callbacks
):
    admin_upload()
    document = KnowledgeDocument.objects.get()
    LocalVector.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            BASE, {"action": "reingest", "_selected_action": [document.pk]}, follow=True
        )

    assert "Queued 1 document(s) for ingestion." in response.content.decode()
    assert LocalVector.objects.count() == 1


def test_deleting_in_admin_removes_the_vectors(
    admin_upload, staff_client, django_capture_on_commit_callbacks, media_files
):
    admin_upload()
    document = KnowledgeDocument.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{BASE}{document.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not KnowledgeDocument.objects.exists()
    assert not LocalVector.objects.exists()
    assert media_files() == []


def test_bulk_deletion_confirms_then_removes_documents_and_vectors(
    admin_upload, staff_client, django_capture_on_commit_callbacks
):
    admin_upload()
    admin_upload(name="b.md", content="# B\n\nb")
    ids = list(KnowledgeDocument.objects.values_list("pk", flat=True))

    confirmation = staff_client.post(BASE, {"action": "delete_selected", "_selected_action": ids})
    assert confirmation.status_code == 200
    assert KnowledgeDocument.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            BASE, {"action": "delete_selected", "_selected_action": ids, "post": "yes"}, follow=True
        )

    assert "Deleted 2 document(s) and their vectors." in response.content.decode()
    assert not KnowledgeDocument.objects.exists()
    assert not LocalVector.objects.exists()


def test_a_document_whose_vectors_cannot_be_deleted_is_kept(
    admin_upload, staff_client, chatbot, settings, pinecone_server
):
    admin_upload()
    document = KnowledgeDocument.objects.get()
    # The chatbot moved to Pinecone, which is down.
    settings.PINECONE_CONTROLLER_HOST = pinecone_server.controller_host
    chatbot.pinecone_api_key = pinecone_server.api_key
    chatbot.save()
    pinecone_server.fail_next(1000, status=503)

    single = staff_client.post(f"{BASE}{document.pk}/delete/", {"post": "yes"}, follow=True)
    bulk = staff_client.post(
        BASE, {"action": "delete_selected", "_selected_action": [document.pk], "post": "yes"}, follow=True
    )

    for response in (single, bulk):
        assert "could not be deleted, so the document was kept" in response.content.decode()
    assert KnowledgeDocument.objects.filter(pk=document.pk).exists()
    from django.contrib.admin.models import LogEntry

    assert not LogEntry.objects.filter(action_flag=3).exists()
