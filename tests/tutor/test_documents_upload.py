"""Uploading documents: multipart and base64, typed by content, every refusal with its own code
and nothing stored, duplicates reported, processing in the job with status and progress."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chatplatform.jobs.models import Job
from chatplatform.jobs.runner import jobs_run_available
from tests.tutor import samples
from tests.tutor.factories import StudySessionFactory, learner_client
from tutor.embeddings.queue import embedding_queue_enqueue
from tutor.models import Chunk, Document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def session():
    return StudySessionFactory()


def url(session):
    return f"/api/v1/tutor/sessions/{session.pk}/documents/"


def upload(session, *files, client=None):
    """Multipart upload of (name, bytes[, content type]) tuples."""
    parts = [SimpleUploadedFile(f[0], f[1], content_type=f[2] if len(f) > 2 else "") for f in files]
    client = client or learner_client(session.learner)
    return client.post(url(session), {"files": parts}, format="multipart")


def upload_json(session, *files):
    body = {
        "files": [
            {"filename": name, "content": base64.b64encode(data).decode(), "mime_type": mime}
            for name, data, mime in files
        ]
    }
    return learner_client(session.learner).post(url(session), body, format="json")


def stored_files(media):
    return [p for p in media.rglob("*") if p.is_file()]


def test_a_multipart_upload_of_several_files_is_typed_by_content_and_queued(session, media):
    response = upload(
        session,
        ("photosynthesis.pdf", samples.PDF, "application/pdf"),
        ("scan", samples.DOCX),  # no extension, no type: the content decides
        ("notes.txt", samples.TXT, "text/plain"),
    )
    assert response.status_code == 201
    body = response.json()
    assert [(d["kind"], d["status"], d["duplicate"]) for d in body] == [
        ("pdf", "pending", False),
        ("docx", "pending", False),
        ("txt", "pending", False),
    ]
    assert body[0]["pages"] == 2
    assert len(body[0]["checksum"]) == 64
    assert len(stored_files(media)) == 3


def test_processing_makes_passages_and_fills_in_the_metadata(
    session, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document_id = upload(session, ("photosynthesis.pdf", samples.PDF))
    document_id = document_id.json()[0]["id"]
    assert Job.objects.filter(kind="tutor_document_process").count() == 1
    jobs_run_available(budget_seconds=60)
    detail = learner_client(session.learner).get(f"{url(session)}{document_id}/").json()
    assert (detail["status"], detail["progress"], detail["error_code"]) == ("ready", 100, "")
    assert (detail["pages"], detail["language"]) == (2, "en")
    assert detail["chunks"] == Chunk.objects.filter(document_id=document_id).count() > 0
    pages = list(
        Chunk.objects.filter(document_id=document_id).order_by("position").values_list("page", flat=True)
    )
    # The sample's second page holds only the end of the last passage, which starts on page 1.
    assert pages == [1] * len(pages)
    assert detail["started_at"] is not None
    assert detail["finished_at"] is not None
    # The stored bytes are not kept once the passages are.
    assert stored_files(media) == []
    # The embedding queue's job (woken by the document, or by beat) embeds every passage.
    embedding_queue_enqueue()
    jobs_run_available(budget_seconds=60)
    progress = learner_client(session.learner).get(f"/api/v1/tutor/sessions/{session.pk}/").json()["progress"]
    assert progress["chunks_embedded"] == progress["chunks"] == detail["chunks"]
    assert progress["percent_embedded"] == 100


def test_json_with_base64_content_is_accepted_as_older_clients_send_it(session):
    response = upload_json(session, ("statistics.md", samples.MARKDOWN, "text/markdown"))
    assert response.status_code == 201
    assert response.json()[0]["kind"] == "markdown"
    assert response.json()[0]["mime_type"] == "text/markdown"


def test_markdown_without_a_name_or_type_is_told_by_its_syntax(session):
    [document] = upload_json(session, ("upload", samples.MARKDOWN, ""), ("upload2", samples.TXT, "")).json()[
        :1
    ]
    assert document["kind"] == "markdown"


def test_the_same_file_again_is_reported_as_a_duplicate_and_not_processed_twice(
    session, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(session, ("a.txt", samples.TXT)).json()[0]
    with django_capture_on_commit_callbacks(execute=True):
        again = upload(session, ("renamed.txt", samples.TXT))
    assert again.status_code == 200
    assert again.json()[0]["duplicate"] is True
    assert again.json()[0]["id"] == first["id"]
    assert Document.objects.count() == 1
    assert Job.objects.filter(kind="tutor_document_process").count() == 1


def test_the_same_file_in_another_session_is_a_new_document(session):
    upload(session, ("a.txt", samples.TXT))
    other = StudySessionFactory(learner=session.learner)
    assert upload(other, ("a.txt", samples.TXT)).status_code == 201


def _refused(response, code, status, media):
    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert not Document.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize(
    ("files", "code", "status"),
    [
        ([("locked.pdf", samples.encrypted_pdf())], "document_encrypted", 400),
        ([("broken.pdf", samples.broken_pdf())], "document_unreadable", 400),
        ([("notes.pdf", samples.TXT)], "document_type_mismatch", 415),
        ([("report", samples.PDF, "text/plain")], "document_type_mismatch", 415),
        ([("essay.docx", samples.PDF)], "document_type_mismatch", 415),
        ([("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")], "unsupported_document_type", 415),
        ([("page.html", b"<!DOCTYPE html><html><body>Hi</body></html>")], "unsupported_document_type", 415),
        ([("empty.txt", b"  \n")], "document_empty", 400),
        # One bad file refuses the whole request: the good one before it is not stored either.
        ([("good.txt", samples.TXT), ("locked.pdf", samples.encrypted_pdf())], "document_encrypted", 400),
    ],
    ids=[
        "encrypted",
        "broken",
        "text-as-pdf",
        "pdf-as-text",
        "pdf-as-docx",
        "image",
        "html",
        "empty",
        "mixed",
    ],
)
def test_each_bad_file_class_has_its_own_code_and_stores_nothing(session, media, files, code, status):
    _refused(upload(session, *files), code, status, media)


def test_a_docx_zip_bomb_is_refused_before_it_is_inflated(session, media, settings):
    settings.TUTOR_MAX_UPLOAD_BYTES = 200_000  # unpacked limit 2 MB
    _refused(
        upload(session, ("bomb.docx", samples.zip_bomb_docx(3_000_000))), "document_zip_bomb", 413, media
    )


def test_a_file_over_the_size_limit_is_refused(session, media, settings):
    settings.TUTOR_MAX_UPLOAD_BYTES = 1000
    _refused(upload(session, ("notes.txt", samples.TXT)), "document_too_large", 413, media)
    _refused(upload_json(session, ("notes.txt", samples.TXT, "text/plain")), "document_too_large", 413, media)


def test_a_pdf_over_the_page_limit_is_refused(session, media, settings):
    settings.TUTOR_MAX_PAGES = 1
    _refused(upload(session, ("photosynthesis.pdf", samples.PDF)), "document_too_many_pages", 413, media)


def test_more_files_than_allowed_in_one_request_are_refused(session, media, settings):
    settings.TUTOR_MAX_FILES_PER_REQUEST = 2
    files = [(f"{n}.txt", samples.TXT + bytes([n])) for n in range(3)]
    _refused(upload(session, *files), "too_many_files", 413, media)


def test_invalid_base64_and_no_files_are_refused(session, media):
    body = {"files": [{"filename": "a.txt", "content": "not base64!", "mime_type": "text/plain"}]}
    response = learner_client(session.learner).post(url(session), body, format="json")
    _refused(response, "invalid_base64", 400, media)
    _refused(
        learner_client(session.learner).post(url(session), {"files": []}, format="json"),
        "no_files",
        400,
        media,
    )


def test_an_archived_session_takes_no_documents(session, media):
    client = learner_client(session.learner)
    client.post(f"/api/v1/tutor/sessions/{session.pk}/archive/")
    _refused(upload(session, ("a.txt", samples.TXT), client=client), "session_archived", 409, media)
