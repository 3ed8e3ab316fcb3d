"""Sessions whose ready passages come from the shared sample documents, for the content tests.

The passages are cut the way the document pipeline cuts them (extraction, then chunking), without
waiting for the pipeline itself; each sample is read once per test run.
"""

import functools

from chatplatform.documents.chunking import text_chunk
from chatplatform.documents.extraction import document_text_extract
from tests.tutor.factories import ChunkFactory, DocumentFactory, StudySessionFactory
from tests.tutor.samples import DATA
from tutor.models import Document

SAMPLES = {
    "photosynthesis.pdf": Document.Kind.PDF,
    "photosynthesis.txt": Document.Kind.TXT,
    "statistics.md": Document.Kind.MARKDOWN,
    "french-revolution.docx": Document.Kind.DOCX,
}


@functools.cache
def sample_passages(name: str) -> tuple[str, ...]:
    extracted = document_text_extract(name=name, data=(DATA / name).read_bytes())
    return tuple(chunk.text for chunk in text_chunk(extracted.text))


def session_with_texts(
    texts, *, session=None, filename="notes.txt", kind=Document.Kind.TXT, **session_fields
):
    """A session with one ready document made of these passages."""
    session = session or StudySessionFactory(**session_fields)
    document = DocumentFactory(session=session, filename=filename, kind=kind)
    for position, text in enumerate(texts):
        ChunkFactory(document=document, position=position, text=text)
    return session


def session_with_sample(name: str, **session_fields):
    return session_with_texts(sample_passages(name), filename=name, kind=SAMPLES[name], **session_fields)
