"""A document's type comes from its bytes wherever the bytes can tell."""

import pytest

from chatplatform.documents.sniffing import document_kind
from chatplatform.errors import ApplicationError
from tests.chatplatform.documents.samples import DATA, docx_bytes


@pytest.mark.parametrize("name", ["photosynthesis.pdf", "scan", "notes.txt", "page.html"])
def test_a_pdf_is_a_pdf_whatever_its_name(name):
    assert document_kind(name=name, data=(DATA / "photosynthesis.pdf").read_bytes()) == "pdf"


@pytest.mark.parametrize("name", ["letter.docx", "letter", "letter.md"])
def test_a_word_document_is_docx_whatever_its_name(name):
    assert document_kind(name=name, data=docx_bytes(("", "Hej"))) == "docx"


def test_text_is_told_apart_by_its_extension():
    assert document_kind(name="a.md", data=b"# Hej") == "markdown"
    assert document_kind(name="a.txt", data=b"# Hej") == "text"
    assert document_kind(name="a.htm", data=b"<p>Hej</p>") == "html"


def test_utf16_text_with_a_bom_is_text_despite_its_nul_bytes():
    assert document_kind(name="a.txt", data="Hej".encode("utf-16")) == "text"


def test_a_file_named_docx_that_is_not_one_is_unreadable():
    with pytest.raises(ApplicationError) as caught:
        document_kind(name="letter.docx", data=b"plain text")

    assert caught.value.code == "document_unreadable"
