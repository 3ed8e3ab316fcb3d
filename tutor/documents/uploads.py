"""A learner's uploaded file, checked before anything is stored.

The type comes from the bytes (`chatplatform.documents.sniffing`): a PDF or DOCX signature wins
over the name, and a declared type (the MIME type sent, or the name's extension) that names
another family than the content is refused as `document_type_mismatch`. Text has no signature;
Markdown is told from plain text by its name, its MIME type or its syntax. Cheap structural
checks run here too (size, a PDF's encryption and page count, a DOCX's unpacked size), so that
those files are refused at once with their own codes; the full read happens in the worker.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from rest_framework import status

from chatplatform.documents import errors as codes
from chatplatform.documents.extraction import (
    ExtractionLimits,
    decode_text,
    document_size_check,
)
from chatplatform.documents.sniffing import CONTENT_TYPES, DOCX, PDF, document_sniff
from chatplatform.errors import ApplicationError
from tutor.models import Document

DOCUMENT_TYPE_MISMATCH = "document_type_mismatch"
TOO_MANY_FILES = "too_many_files"
NO_FILES = "no_files"
INVALID_BASE64 = "invalid_base64"

SUPPORTED = "PDF, DOCX, plain text and Markdown"
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_DECLARED_TYPES = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    CONTENT_TYPES[DOCX]: "docx",
    "text/plain": "text",
    "text/markdown": "text",
    "text/x-markdown": "text",
}
_EXTENSIONS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".markdown": "text",
}
_MARKDOWN_NAMES = (".md", ".markdown")
_MARKDOWN_TYPES = ("text/markdown", "text/x-markdown")
_MARKDOWN_SYNTAX = re.compile(
    r"^(#{1,6} \S|```|[-*+] \S.*\n[-*+] \S|\d+\. \S.*\n\d+\. \S)|\[[^\]\n]+\]\([^)\s]+\)",
    re.MULTILINE,
)
_HTML = re.compile(rb"^\s*<(!doctype html|html[\s>])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A file that passed the upload checks, with the metadata known before reading it."""

    filename: str
    data: bytes
    kind: str  # Document.Kind
    mime_type: str
    checksum: str
    pages: int | None


def tutor_limits() -> ExtractionLimits:
    """The tutor's own limits (TUTOR_MAX_UPLOAD_BYTES, TUTOR_MAX_PAGES, ...)."""
    return ExtractionLimits(
        max_bytes=settings.TUTOR_MAX_UPLOAD_BYTES,
        max_pages=settings.TUTOR_MAX_PAGES,
        timeout_seconds=settings.TUTOR_EXTRACTION_TIMEOUT_SECONDS,
    )


def file_count_check(count: int) -> None:
    if count == 0:
        raise ApplicationError(NO_FILES, "Send at least one file in `files`.")
    limit = settings.TUTOR_MAX_FILES_PER_REQUEST
    if count > limit:
        raise ApplicationError(
            TOO_MANY_FILES,
            f"{count} files sent; at most {limit} may be uploaded in one request.",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )


def file_size_check(*, filename: str, size: int) -> None:
    document_size_check(name=filename, size=size, limits=tutor_limits())


def uploaded_file_check(*, filename: str, data: bytes, declared_type: str = "") -> CheckedFile:
    """Check one file's type, size and structure; raises ApplicationError with a stable code."""
    limits = tutor_limits()
    filename = PurePath(filename.replace("\\", "/")).name[:255] or "document"
    document_size_check(name=filename, size=len(data), limits=limits)
    if not data.strip():
        raise ApplicationError(codes.DOCUMENT_EMPTY, f'"{filename}" is empty.')
    sniffed = document_sniff(data)
    if sniffed in ("zip", "binary") or (sniffed == "text" and _HTML.match(data[:1024])):
        raise ApplicationError(
            codes.DOCUMENT_UNSUPPORTED_TYPE,
            f'"{filename}" is not a supported document; upload {SUPPORTED} files.',
            status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    declared = _declared_families(filename, declared_type)
    if declared and sniffed not in declared:
        raise ApplicationError(
            DOCUMENT_TYPE_MISMATCH,
            f'"{filename}" is declared as {" and ".join(sorted(declared)).upper()} but its content '
            f"is {sniffed.upper()}.",
            status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    pages = None
    if sniffed == PDF:
        kind = Document.Kind.PDF
        pages = _pdf_pages(data, filename=filename, limits=limits)
    elif sniffed == DOCX:
        kind = Document.Kind.DOCX
        _docx_unpacked_check(data, filename=filename, limits=limits)
    else:
        kind = _text_kind(filename, declared_type, data)
    mime_type = CONTENT_TYPES[DOCX] if kind == Document.Kind.DOCX else _MIME[kind]
    return CheckedFile(
        filename=filename,
        data=data,
        kind=kind,
        mime_type=mime_type,
        checksum=hashlib.sha256(data).hexdigest(),
        pages=pages,
    )


_MIME = {
    Document.Kind.PDF: "application/pdf",
    Document.Kind.TXT: "text/plain",
    Document.Kind.MARKDOWN: "text/markdown",
}


def _declared_families(filename: str, declared_type: str) -> set[str]:
    """The families (`pdf`, `docx`, `text`) the name and MIME type claim; empty when neither does."""
    families = set()
    by_name = _EXTENSIONS.get(PurePath(filename).suffix.lower())
    if by_name:
        families.add(by_name)
    mime = declared_type.split(";", 1)[0].strip().lower()
    if mime not in _GENERIC_TYPES and mime in _DECLARED_TYPES:
        families.add(_DECLARED_TYPES[mime])
    if len(families) > 1:
        # Name and MIME type disagree with each other: only content can decide, and it must be
        # one of the two.
        return families
    return families


def _text_kind(filename: str, declared_type: str, data: bytes) -> str:
    mime = declared_type.split(";", 1)[0].strip().lower()
    if filename.lower().endswith(_MARKDOWN_NAMES) or mime in _MARKDOWN_TYPES:
        return Document.Kind.MARKDOWN
    if PurePath(filename).suffix.lower() in (".txt", ".text") or mime == "text/plain":
        return Document.Kind.TXT
    sample = decode_text(data[:16384])
    return Document.Kind.MARKDOWN if _MARKDOWN_SYNTAX.search(sample) else Document.Kind.TXT


def _pdf_pages(data: bytes, *, filename: str, limits: ExtractionLimits) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted and not reader.decrypt("")
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise _unreadable(filename, "PDF") from exc
    if encrypted:
        raise ApplicationError(
            codes.DOCUMENT_ENCRYPTED,
            f'"{filename}" is password-protected; upload it without the password.',
        )
    try:
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise _unreadable(filename, "PDF") from exc
    if pages == 0:
        raise _unreadable(filename, "PDF")
    if pages > limits.max_pages:
        raise ApplicationError(
            codes.DOCUMENT_TOO_MANY_PAGES,
            f'"{filename}" has {pages} pages; documents may have at most {limits.max_pages}.',
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    return pages


def _docx_unpacked_check(data: bytes, *, filename: str, limits: ExtractionLimits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _unreadable(filename, "DOCX") from exc
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.max_unpacked_bytes:
        raise ApplicationError(
            codes.DOCUMENT_ZIP_BOMB,
            f'"{filename}" unpacks to {unpacked / 1_000_000:.1f} MB, more than a document may '
            f"({limits.max_unpacked_bytes / 1_000_000:.1f} MB).",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )


def _unreadable(filename: str, kind: str) -> ApplicationError:
    return ApplicationError(
        codes.DOCUMENT_UNREADABLE,
        f'"{filename}" could not be read as {kind}; the file may be damaged.',
    )
