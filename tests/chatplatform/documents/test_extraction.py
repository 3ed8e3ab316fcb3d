import io
import zipfile

import pytest

from chatplatform.documents.extraction import document_text_extract
from chatplatform.errors import ApplicationError
from tests.chatplatform.documents.samples import DATA, docx_bytes


def extract(name: str, data: bytes | str):
    return document_text_extract(name=name, data=data.encode() if isinstance(data, str) else data)


def refusal(name: str, data: bytes | str) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        extract(name, data)
    return caught.value


def test_it_keeps_markdown_as_it_is():
    result = extract("faq.md", "# Returns\n\nYou may return wine within 30 days.\r\n")

    assert result.kind == "markdown"
    assert result.content_type == "text/markdown"
    assert result.text == "# Returns\n\nYou may return wine within 30 days."
    assert result.first_heading == "Returns"


def test_it_reads_markdown_and_text_extensions_alike():
    assert extract("notes.markdown", "Hello").kind == "markdown"
    assert extract("notes.TXT", "Hello").kind == "text"


def test_it_reads_utf8_text_with_a_bom_and_falls_back_to_latin1():
    assert extract("a.txt", "\ufeffRødvin og hvidvin".encode()).text == "Rødvin og hvidvin"
    assert extract("b.txt", "Rødvin og hvidvin".encode("latin-1")).text == "Rødvin og hvidvin"


def test_it_reads_the_text_of_a_pdf():
    result = extract("photosynthesis.pdf", (DATA / "photosynthesis.pdf").read_bytes())

    assert result.kind == "pdf"
    assert "chloroplasts" in result.text
    assert result.text.startswith("Photosynthesis")


def test_it_says_where_each_page_of_a_pdf_begins_in_the_text():
    from pypdf import PdfReader

    data = (DATA / "photosynthesis.pdf").read_bytes()
    result = extract("photosynthesis.pdf", data)

    assert result.page_starts[0] == 0
    assert len(result.page_starts) == result.pages == 2
    second = PdfReader(io.BytesIO(data)).pages[1].extract_text().strip()
    assert result.text[result.page_starts[1] :].startswith(second[:40])
    assert extract("a.md", "# Notes").page_starts is None


def test_it_recognises_a_pdf_by_its_content_whatever_its_name():
    assert extract("scan", (DATA / "photosynthesis.pdf").read_bytes()).kind == "pdf"


def test_it_keeps_docx_headings_as_markdown_headings():
    result = extract("french-revolution.docx", (DATA / "french-revolution.docx").read_bytes())

    assert result.kind == "docx"
    assert result.text.startswith("# The French Revolution (1789-1799)\n\n## Causes\n\nBy the late 1780s")
    assert "## The storming of the Bastille" in result.text


def test_it_reads_docx_lists_and_tables_in_reading_order():
    data = docx_bytes(
        ("Heading 1", "Prices"),
        ("List Bullet", "Red wine"),
        ("table", "Wine|Price;Barolo|300 DKK"),
        ("", "Prices include VAT."),
    )

    assert extract("prices.docx", data).text == (
        "## Prices\n\n- Red wine\n\nWine | Price\nBarolo | 300 DKK\n\nPrices include VAT."
    )


def test_it_reads_html_as_lines_without_scripts_and_styles():
    html = """<!doctype html><html><head><title>Shop</title><style>p {color: red}</style>
    <script>var secret = 1;</script></head><body>
    <h1>Delivery</h1><p>We ship   within <b>2 days</b>.</p>
    <ul><li>GLS</li><li>PostNord &amp; DAO</li></ul>
    <noscript>Enable JavaScript</noscript><h2>Returns</h2><div>30 days<br>no questions</div>
    </body></html>"""

    result = extract("delivery.html", html)

    assert result.kind == "html"
    assert result.text == (
        "# Delivery\n\nWe ship within 2 days.\n\n- GLS\n\n- PostNord & DAO\n\n"
        "## Returns\n\n30 days\nno questions"
    )


def test_it_accepts_the_htm_extension():
    assert extract("page.htm", "<p>Hej</p>").text == "Hej"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("wine.exe", b"MZ\x90\x00binary"),
        ("notes", b"plain text without an extension"),
        ("sheet.xlsx", b"anything"),
        ("old.doc", b"\xd0\xcf\x11\xe0 word 97"),
    ],
)
def test_it_refuses_unsupported_types(name, data):
    error = refusal(name, data)

    assert error.code == "unsupported_document_type"
    assert ".pdf" in error.message


def test_it_refuses_binary_content_named_like_text():
    assert refusal("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").code == "unsupported_document_type"


def test_it_refuses_a_zip_that_is_not_a_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    assert refusal("book.docx", buffer.getvalue()).code == "unsupported_document_type"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty.md", b""),
        ("blank.txt", b"  \n\n\t "),
        ("empty.html", b"<html><body><script>x()</script><p> </p></body></html>"),
    ],
)
def test_it_refuses_documents_without_text(name, data):
    assert refusal(name, data).code == "document_empty"


@pytest.mark.parametrize("data", [b"%PDF-1.4\n garbage", (DATA / "photosynthesis.pdf").read_bytes()[:1500]])
def test_it_refuses_a_damaged_pdf(data):
    error = refusal("photosynthesis.pdf", data)

    assert error.code == "document_unreadable"
    assert "damaged" in error.message


def test_it_refuses_a_pdf_that_is_not_a_pdf():
    assert refusal("report.pdf", "just some text").code == "document_unreadable"


def test_it_refuses_a_damaged_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<not really xml")

    assert refusal("letter.docx", buffer.getvalue()).code == "document_unreadable"


def test_it_refuses_documents_over_the_size_limit(settings):
    settings.KB_MAX_UPLOAD_BYTES = 100

    error = refusal("big.md", "x" * 101)

    assert error.code == "document_too_large"
    assert error.status_code == 413
