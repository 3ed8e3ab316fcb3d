"""A document's type, decided by its bytes wherever the bytes can tell.

PDF and DOCX carry a signature, so a PDF named `scan` or `notes.txt` is still a PDF, and a file
named `.pdf` without the signature is broken rather than of another type. Text has no signature:
its bytes only show that it is text (no NUL outside UTF-16), and the extension then says which
text it is (Markdown, plain text or HTML). Other archives and binaries are refused.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from chatplatform.documents.errors import DOCUMENT_UNREADABLE, DOCUMENT_UNSUPPORTED_TYPE
from chatplatform.errors import ApplicationError

MARKDOWN, TEXT, PDF, DOCX, HTML = "markdown", "text", "pdf", "docx", "html"
EXTENSIONS = {
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".txt": TEXT,
    ".pdf": PDF,
    ".docx": DOCX,
    ".html": HTML,
    ".htm": HTML,
}
CONTENT_TYPES = {
    MARKDOWN: "text/markdown",
    TEXT: "text/plain",
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    HTML: "text/html",
}
SUPPORTED = ".md, .markdown, .txt, .pdf, .docx, .html and .htm"
_SNIFF_BYTES = 8192
_ZIP = b"PK\x03\x04"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def document_kind(*, name: str, data: bytes) -> str:
    """The document's kind from its bytes (and, for text, its extension).

    Raises `unsupported_document_type` for anything else, and `document_unreadable` for a file
    named PDF or DOCX whose bytes are not one.
    """
    sniffed = _sniff(data)
    if sniffed in (PDF, DOCX):
        return sniffed
    by_name = EXTENSIONS.get(PurePath(name).suffix.lower())
    if by_name is None or sniffed == "zip":
        raise ApplicationError(
            DOCUMENT_UNSUPPORTED_TYPE, f'"{name}" is not a supported document; upload {SUPPORTED} files.'
        )
    if by_name in (PDF, DOCX):
        # Named like one but not shaped like one: broken rather than of another type.
        raise ApplicationError(DOCUMENT_UNREADABLE, f'"{name}" is not a readable {by_name.upper()} file.')
    if sniffed == "binary":
        raise ApplicationError(
            DOCUMENT_UNSUPPORTED_TYPE, f'"{name}" does not contain text; upload {SUPPORTED} files.'
        )
    return by_name


def document_sniff(data: bytes) -> str:
    """What the bytes alone say: `pdf`, `docx`, `zip` (any other archive), `binary` or `text`.

    For callers that weigh a declared type against the content (the tutor refuses a mismatch).
    """
    return _sniff(data)


def _sniff(data: bytes) -> str:
    """`pdf`, `docx`, `zip` (any other archive), `binary` or `text`."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(_ZIP):
        return DOCX if _is_docx(data) else "zip"
    head = data[:_SNIFF_BYTES]
    # UTF-16 text starts with a BOM; any other NUL byte means a binary file.
    if b"\x00" in head and not head.startswith(_UTF16_BOMS):
        return "binary"
    return TEXT


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
