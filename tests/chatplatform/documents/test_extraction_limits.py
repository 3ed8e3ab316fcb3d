"""The limits that hold a huge or hostile document back, each with its own code."""

import io
import itertools
import zipfile

import pytest

from chatplatform.documents.extraction import ExtractionLimits, document_text_extract
from chatplatform.errors import ApplicationError
from tests.chatplatform.documents.samples import DATA, docx_bytes

PDF = (DATA / "photosynthesis.pdf").read_bytes()
LIMITS = ExtractionLimits(max_bytes=1_000_000, max_pages=50, timeout_seconds=30)


def refusal(name: str, data: bytes, limits: ExtractionLimits = LIMITS, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        document_text_extract(name=name, data=data, limits=limits, **kwargs)
    return caught.value


def fake_clock(step: float):
    """A clock that moves `step` seconds every time it is read."""
    ticks = itertools.count()
    return lambda: next(ticks) * step


def test_it_refuses_a_pdf_with_more_pages_than_allowed():
    error = refusal(
        "photosynthesis.pdf", PDF, ExtractionLimits(max_bytes=1_000_000, max_pages=1, timeout_seconds=30)
    )

    assert error.code == "document_too_many_pages"
    assert error.status_code == 413
    assert "2 pages" in error.message


def test_a_pdf_within_the_page_limit_reports_its_pages():
    assert document_text_extract(name="photosynthesis.pdf", data=PDF, limits=LIMITS).pages == 2


def test_it_refuses_a_password_protected_pdf():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(PDF)))
    writer.encrypt(user_password="secret", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)

    error = refusal("locked.pdf", buffer.getvalue())

    assert error.code == "document_encrypted"
    assert "password" in error.message


def test_it_refuses_a_word_document_that_unpacks_to_far_more_than_the_limit():
    buffer = io.BytesIO(docx_bytes(("", "Harmless text.")))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", b"\0" * (LIMITS.max_bytes * 10 + 1))
    data = buffer.getvalue()
    assert len(data) < LIMITS.max_bytes  # small on the wire, huge once inflated

    error = refusal("bomb.docx", data)

    assert error.code == "document_zip_bomb"
    assert error.status_code == 413


def test_a_normal_word_document_is_no_zip_bomb():
    text = document_text_extract(name="a.docx", data=docx_bytes(("", "Harmless text.")), limits=LIMITS).text

    assert text == "Harmless text."


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photosynthesis.pdf", PDF),
        ("french-revolution.docx", (DATA / "french-revolution.docx").read_bytes()),
        ("long.html", ("<p>Vin og mad.</p>" * 20_000).encode()),
    ],
)
def test_it_gives_up_on_a_document_that_takes_too_long_to_read(name, data):
    # Every reading of this clock is ten seconds later than the one before.
    error = refusal(
        name,
        data,
        ExtractionLimits(max_bytes=1_000_000, max_pages=50, timeout_seconds=15),
        clock=fake_clock(10),
    )

    assert error.code == "document_extraction_timeout"
    assert "15 seconds" in error.message


def test_a_document_read_within_the_time_limit_is_not_refused():
    result = document_text_extract(name="photosynthesis.pdf", data=PDF, limits=LIMITS, clock=fake_clock(0))

    assert "chloroplasts" in result.text


def test_the_limits_come_from_the_settings(settings):
    settings.KB_MAX_UPLOAD_BYTES = 1234
    settings.DOCUMENT_MAX_PAGES = 7
    settings.DOCUMENT_EXTRACTION_TIMEOUT_SECONDS = 2.5

    assert ExtractionLimits.from_settings() == ExtractionLimits(
        max_bytes=1234, max_pages=7, timeout_seconds=2.5
    )
