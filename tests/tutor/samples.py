"""Study files for the tutor's tests: the shared samples, and hostile files built on the fly."""

import io
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "tutor"
PDF = (DATA / "photosynthesis.pdf").read_bytes()
TXT = (DATA / "photosynthesis.txt").read_bytes()
MARKDOWN = (DATA / "statistics.md").read_bytes()
DOCX = (DATA / "french-revolution.docx").read_bytes()
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(PDF)))
    writer.encrypt(user_password="secret", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def zip_bomb_docx(unpacked_bytes: int) -> bytes:
    """A real DOCX with a padding member that inflates to `unpacked_bytes` (compresses ~1000:1)."""
    buffer = io.BytesIO(DOCX)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", b"\0" * unpacked_bytes)
    return buffer.getvalue()


def broken_pdf() -> bytes:
    return PDF[:1500]
