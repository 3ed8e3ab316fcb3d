"""Processing in the worker: the read runs in a child process under time and memory limits, and
a failed document keeps no passages."""

import pytest
from django.core.files.base import ContentFile

from chatplatform.documents.extraction import ExtractionLimits
from chatplatform.errors import ApplicationError
from tests.tutor import samples
from tests.tutor.factories import ChunkFactory, DocumentFactory
from tutor.documents import services
from tutor.documents.pages import chunk_pages
from tutor.documents.reading import document_read
from tutor.documents.services import document_process
from tutor.models import Chunk, Document

pytestmark = pytest.mark.django_db

LIMITS = ExtractionLimits(max_bytes=1_000_000, max_pages=50, timeout_seconds=30)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def pending_document(name: str, data: bytes, kind: str = Document.Kind.TXT) -> Document:
    document = DocumentFactory(filename=name, kind=kind, status=Document.Status.PENDING, progress=0)
    document.file.save(name, ContentFile(data))
    return document


def test_the_child_process_reads_a_docx_with_its_headings(tmp_path):
    path = tmp_path / "essay.docx"
    path.write_bytes(samples.DOCX)
    read = document_read(path=str(path), name="essay.docx", limits=LIMITS)
    assert read.kind == "docx"
    assert "# " in read.text


def test_a_read_over_the_memory_limit_gets_its_own_code(tmp_path):
    path = tmp_path / "notes.pdf"
    path.write_bytes(samples.PDF)
    with pytest.raises(ApplicationError) as caught:
        document_read(path=str(path), name="notes.pdf", limits=LIMITS, memory_mb=40)
    assert caught.value.code == "document_memory_limit"


def test_a_read_over_the_time_limit_gets_its_own_code(tmp_path, monkeypatch):
    path = tmp_path / "notes.txt"
    path.write_bytes(samples.TXT)
    # No time at all for the child: the parent gives up waiting and kills it.
    monkeypatch.setattr("tutor.documents.reading._STARTUP_SECONDS", 0.0)
    with pytest.raises(ApplicationError) as caught:
        document_read(path=str(path), name="notes.txt", limits=ExtractionLimits(1_000_000, 50, 0.01))
    assert caught.value.code == "document_extraction_timeout"


def test_a_refused_read_fails_the_document_and_keeps_no_passages(monkeypatch):
    document = pending_document("notes.txt", samples.TXT)
    ChunkFactory(document=document)  # left over from an earlier, interrupted run

    def refuse(**kwargs):
        raise ApplicationError("document_memory_limit", "Too much memory.")

    monkeypatch.setattr(services, "document_read", refuse)
    document = document_process(document_id=document.pk)
    assert (document.status, document.error_code) == (Document.Status.FAILED, "document_memory_limit")
    assert document.finished_at is not None
    assert not Chunk.objects.exists()
    assert not document.file


def test_an_unexpected_error_is_retried_and_fails_the_document_only_on_the_last_attempt(monkeypatch):
    document = pending_document("notes.txt", samples.TXT)

    def crash(**kwargs):
        raise OSError("disk trouble")

    monkeypatch.setattr(services, "document_read", crash)
    with pytest.raises(OSError, match="disk trouble"):
        document_process(document_id=document.pk, final_attempt=False)
    document.refresh_from_db()
    assert document.status == Document.Status.PROCESSING
    with pytest.raises(OSError, match="disk trouble"):
        document_process(document_id=document.pk, final_attempt=True)
    document.refresh_from_db()
    assert (document.status, document.error_code) == (Document.Status.FAILED, "document_processing_failed")


def test_processing_a_document_twice_keeps_one_set_of_passages():
    document = pending_document("statistics.md", samples.MARKDOWN, Document.Kind.MARKDOWN)
    document_process(document_id=document.pk)
    count = Chunk.objects.filter(document=document).count()
    document_process(document_id=document.pk)  # the job delivered twice
    assert Chunk.objects.filter(document=document).count() == count > 0
    assert list(Chunk.objects.filter(document=document).values_list("position", flat=True)) == list(
        range(count)
    )


def test_each_passage_gets_the_page_it_starts_on_even_when_reflowed():
    text = "Page one opens here.\nIt goes on.\n\nPage two   starts\nhere and ends."
    starts = (0, text.index("Page two"))
    chunks = ["Page one opens here. It goes on.", "It goes on.", "Page two starts here", "Not in the text"]
    assert chunk_pages(text, starts, chunks) == [1, 1, 2, None]
    assert chunk_pages(text, None, chunks) == [None] * 4
