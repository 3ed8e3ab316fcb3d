"""Text out of uploaded knowledge-base files: Markdown, plain text, PDF, DOCX and HTML.

The type comes from the file name's extension, checked against the content: PDF and DOCX are
recognised by their bytes (so a PDF without an extension is still a PDF), and a text type whose
bytes are binary is refused. Headings come out as Markdown headings (`## Returns`) so the chunker
can keep each passage's section. Every refusal is an `ApplicationError` with a stable code:
`unsupported_document_type`, `document_too_large`, `document_empty` or `document_unreadable`.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePath

from django.conf import settings
from rest_framework import status

from chatplatform.errors import ApplicationError

logger = logging.getLogger(__name__)

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
_SUPPORTED = ".md, .markdown, .txt, .pdf, .docx, .html and .htm"
_SNIFF_BYTES = 8192
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
# NUL cannot be stored in PostgreSQL text or JSON; other C0 controls are extraction debris.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class ExtractedText:
    kind: str
    content_type: str
    text: str

    @property
    def first_heading(self) -> str:
        """The text of the first Markdown heading, a good default title."""
        match = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", self.text, re.MULTILINE)
        return match.group(1).strip() if match else ""


def document_size_check(*, name: str, size: int) -> None:
    """Refuse a file over `KB_MAX_UPLOAD_BYTES` before reading it."""
    limit = settings.KB_MAX_UPLOAD_BYTES
    if size > limit:
        raise ApplicationError(
            "document_too_large",
            f'"{name}" is {_megabytes(size)}; documents may be at most {_megabytes(limit)}.',
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )


def document_kind(*, name: str, data: bytes) -> str:
    """The document's kind from its extension and its first bytes, or `unsupported_document_type`."""
    extension = PurePath(name).suffix.lower()
    by_name = EXTENSIONS.get(extension)
    if data.startswith(b"%PDF-"):
        sniffed = PDF
    elif _is_docx(data):
        sniffed = DOCX
    elif data.startswith(b"PK\x03\x04"):
        sniffed = "zip"
    else:
        sniffed = None
    if sniffed in (PDF, DOCX):
        return sniffed
    if by_name is None or sniffed == "zip":
        raise ApplicationError(
            "unsupported_document_type",
            f'"{name}" is not a supported document; upload {_SUPPORTED} files.',
        )
    if by_name in (PDF, DOCX):
        # Named like one but not shaped like one: broken rather than of another type.
        raise ApplicationError("document_unreadable", f'"{name}" is not a readable {by_name.upper()} file.')
    if _looks_binary(data):
        raise ApplicationError(
            "unsupported_document_type", f'"{name}" does not contain text; upload {_SUPPORTED} files.'
        )
    return by_name


def document_text_extract(*, name: str, data: bytes) -> ExtractedText:
    """The text of an uploaded document, normalised; refuses empty, broken and unknown files."""
    document_size_check(name=name, size=len(data))
    if not data.strip():
        raise ApplicationError("document_empty", f'"{name}" is empty.')
    kind = document_kind(name=name, data=data)
    try:
        if kind == PDF:
            text = _pdf_text(data)
        elif kind == DOCX:
            text = _docx_text(data)
        elif kind == HTML:
            text = _html_text(decode_text(data))
        else:
            text = decode_text(data)
    except ApplicationError:
        raise
    except Exception as exc:  # parsers raise many kinds of errors on damaged files
        logger.info("Could not read %r as %s: %r", name, kind, exc)
        raise ApplicationError(
            "document_unreadable", f'"{name}" could not be read as {kind.upper()}; the file may be damaged.'
        ) from exc
    text = normalise_text(text)
    if not text:
        raise ApplicationError("document_empty", f'"{name}" contains no text to index.')
    return ExtractedText(kind=kind, content_type=CONTENT_TYPES[kind], text=text)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a BOM), UTF-16 with a BOM, else Latin-1, which never fails."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def normalise_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = _CONTROL_CHARS.sub("", text)
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _looks_binary(data: bytes) -> bool:
    head = data[:_SNIFF_BYTES]
    # UTF-16 text starts with a BOM; any other NUL byte means a binary file.
    return b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _is_docx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ApplicationError("document_unreadable", "The PDF is password-protected.")
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


def _docx_text(data: bytes) -> str:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = Document(io.BytesIO(data))
    blocks: list[str] = []
    # Paragraphs and tables in reading order; `document.paragraphs` alone would skip tables.
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            block = _docx_paragraph(Paragraph(element, document))
        elif tag == "tbl":
            block = _docx_table(Table(element, document))
        else:
            continue
        if block:
            blocks.append(block)
    return "\n\n".join(blocks)


def _docx_paragraph(paragraph) -> str:
    text = paragraph.text.strip()
    if not text:
        return ""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return f"# {text}"
    heading = re.fullmatch(r"Heading (\d)", style)
    if heading:
        # "Title" is the level-1 heading, so "Heading N" sits one level below it.
        return f"{'#' * min(int(heading.group(1)) + 1, 6)} {text}"
    if style.startswith("List"):
        return f"- {text}"
    return text


def _docx_table(table) -> str:
    lines = []
    for row in table.rows:
        cells = [cell.text.strip() for cell in row.cells]
        # Merged cells repeat the same cell object across the row.
        unique = [
            cell for index, cell in enumerate(cells) if cell and (index == 0 or cell != cells[index - 1])
        ]
        if unique:
            lines.append(" | ".join(unique))
    return "\n".join(lines)


class _HtmlText(HTMLParser):
    """Readable lines of an HTML page: headings as Markdown headings, list items as bullets."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "title", "svg", "iframe", "object"})
    _HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
    _BLOCKS = frozenset(
        {
            "p", "div", "section", "article", "main", "header", "footer", "aside", "nav",
            "blockquote", "pre", "ul", "ol", "dl", "dt", "dd", "table", "tr", "caption",
            "figure", "figcaption", "form", "fieldset", "address", "details", "summary", "hr",
            "body", "html",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._parts: list[str] = []
        self._prefix = ""
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._SKIP:
            self._skipping.append(tag)
            return
        if self._skipping:
            return
        if tag in self._HEADINGS:
            self._flush()
            self._prefix = "#" * self._HEADINGS[tag] + " "
        elif tag == "li":
            self._flush()
            self._prefix = "- "
        elif tag == "br":
            self._parts.append("\n")
        elif tag in self._BLOCKS:
            self._flush()
        elif tag in ("td", "th"):
            self._parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag == self._skipping[-1]:
                self._skipping.pop()
            return
        if tag in self._HEADINGS or tag == "li" or tag in self._BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._parts.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        lines = ("".join(self._parts)).split("\n")
        text = "\n".join(" ".join(line.split()) for line in lines).strip()
        if text:
            self.blocks.append(self._prefix + text if self._prefix else text)
        self._parts = []
        self._prefix = ""


def _html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return "\n\n".join(parser.blocks)
