"""Text out of a document's bytes: Markdown, plain text, PDF, DOCX and HTML, within limits.

`sniffing` decides the type. Headings come out as Markdown headings (`## Returns`) so the chunker
can keep each passage's section. Limits hold a hostile or huge file back: bytes before reading,
pages of a PDF, the unpacked size of a DOCX (a zip bomb is refused before it is inflated), and
wall time, checked between pages and blocks (a single pathological page can still overrun it;
the task's own time limit is the backstop). Every refusal is an `ApplicationError` with one of
the codes in `errors`.
"""

from __future__ import annotations

import io
import logging
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

from django.conf import settings
from rest_framework import status

from chatplatform.documents.errors import (
    DOCUMENT_EMPTY,
    DOCUMENT_ENCRYPTED,
    DOCUMENT_EXTRACTION_TIMEOUT,
    DOCUMENT_TOO_LARGE,
    DOCUMENT_TOO_MANY_PAGES,
    DOCUMENT_UNREADABLE,
    DOCUMENT_ZIP_BOMB,
)
from chatplatform.documents.sniffing import CONTENT_TYPES, DOCX, HTML, PDF, document_kind
from chatplatform.errors import ApplicationError

logger = logging.getLogger(__name__)

# A DOCX may unpack to this many times the upload limit; real ones unpack to 2-5 times.
_UNPACKED_FACTOR = 10
# HTML is parsed in pieces of this many characters, so the deadline is looked at in between.
_HTML_PIECE = 64 * 1024
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
# NUL cannot be stored in PostgreSQL text or JSON; other C0 controls are extraction debris.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class ExtractionLimits:
    """How much one document may cost to read."""

    max_bytes: int
    max_pages: int
    timeout_seconds: float

    @classmethod
    def from_settings(cls) -> ExtractionLimits:
        """`KB_MAX_UPLOAD_BYTES` (the name predates the tutor), `DOCUMENT_MAX_PAGES` and
        `DOCUMENT_EXTRACTION_TIMEOUT_SECONDS`."""
        return cls(
            max_bytes=settings.KB_MAX_UPLOAD_BYTES,
            max_pages=settings.DOCUMENT_MAX_PAGES,
            timeout_seconds=settings.DOCUMENT_EXTRACTION_TIMEOUT_SECONDS,
        )

    @property
    def max_unpacked_bytes(self) -> int:
        return self.max_bytes * _UNPACKED_FACTOR


@dataclass(frozen=True, slots=True)
class ExtractedText:
    kind: str
    content_type: str
    text: str
    pages: int | None = None
    # Where each page begins in `text` (PDFs only), for telling which page a passage is on.
    page_starts: tuple[int, ...] | None = None

    @property
    def first_heading(self) -> str:
        """The text of the first Markdown heading, a good default title."""
        match = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", self.text, re.MULTILINE)
        return match.group(1).strip() if match else ""


class _Deadline:
    def __init__(self, *, name: str, seconds: float, clock: Clock) -> None:
        self.name = name
        self.seconds = seconds
        self.clock = clock
        self.end = clock() + seconds

    def check(self) -> None:
        if self.clock() > self.end:
            raise ApplicationError(
                DOCUMENT_EXTRACTION_TIMEOUT,
                f'Reading "{self.name}" took longer than {self.seconds:g} seconds; '
                "split it into smaller files.",
            )


def document_size_check(*, name: str, size: int, limits: ExtractionLimits | None = None) -> None:
    """Refuse a file over the byte limit (`KB_MAX_UPLOAD_BYTES`) before reading it."""
    limit = (limits or ExtractionLimits.from_settings()).max_bytes
    if size > limit:
        raise ApplicationError(
            DOCUMENT_TOO_LARGE,
            f'"{name}" is {_megabytes(size)}; documents may be at most {_megabytes(limit)}.',
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )


def document_text_extract(
    *, name: str, data: bytes, limits: ExtractionLimits | None = None, clock: Clock = time.monotonic
) -> ExtractedText:
    """The text of a document, normalised; refuses empty, broken, unknown and oversized files."""
    limits = limits or ExtractionLimits.from_settings()
    document_size_check(name=name, size=len(data), limits=limits)
    if not data.strip():
        raise ApplicationError(DOCUMENT_EMPTY, f'"{name}" is empty.')
    kind = document_kind(name=name, data=data)
    deadline = _Deadline(name=name, seconds=limits.timeout_seconds, clock=clock)
    pages = page_starts = None
    try:
        if kind == PDF:
            page_texts = _pdf_text(data, name=name, limits=limits, deadline=deadline)
            text, page_starts = _pages_join(page_texts)
            pages = len(page_texts)
        elif kind == DOCX:
            text = _docx_text(data, name=name, limits=limits, deadline=deadline)
        elif kind == HTML:
            text = _html_text(decode_text(data), deadline=deadline)
        else:
            text = decode_text(data)
    except (ApplicationError, MemoryError):
        # Out of memory says nothing about the file: the caller's memory limit decides.
        raise
    except Exception as exc:  # parsers raise many kinds of errors on damaged files
        logger.info("Could not read %r as %s: %r", name, kind, exc)
        raise ApplicationError(
            DOCUMENT_UNREADABLE, f'"{name}" could not be read as {kind.upper()}; the file may be damaged.'
        ) from exc
    deadline.check()
    text = normalise_text(text)
    if not text:
        raise ApplicationError(DOCUMENT_EMPTY, f'"{name}" contains no text to index.')
    return ExtractedText(
        kind=kind, content_type=CONTENT_TYPES[kind], text=text, pages=pages, page_starts=page_starts
    )


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


def _pages_join(page_texts: list[str]) -> tuple[str, tuple[int, ...]]:
    """The pages' text, each normalised, and where each begins. Normalising the joined text again
    changes nothing, so the offsets hold for the final text; a blank page starts where the next
    one does."""
    starts, parts, offset = [], [], 0
    for page in page_texts:
        page = normalise_text(page)
        starts.append(offset)
        if page:
            parts.append(page)
            offset += len(page) + 2
    return "\n\n".join(parts), tuple(starts)


def _pdf_text(data: bytes, *, name: str, limits: ExtractionLimits, deadline: _Deadline) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ApplicationError(
            DOCUMENT_ENCRYPTED, f'"{name}" is password-protected; upload it without the password.'
        )
    pages = len(reader.pages)
    if pages > limits.max_pages:
        raise ApplicationError(
            DOCUMENT_TOO_MANY_PAGES,
            f'"{name}" has {pages} pages; documents may have at most {limits.max_pages}.',
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    texts = []
    for page in reader.pages:
        deadline.check()
        texts.append(page.extract_text() or "")
    return texts


def _docx_text(data: bytes, *, name: str, limits: ExtractionLimits, deadline: _Deadline) -> str:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _docx_unpacked_size_check(data, name=name, limits=limits)
    document = Document(io.BytesIO(data))
    blocks: list[str] = []
    # Paragraphs and tables in reading order; `document.paragraphs` alone would skip tables.
    for element in document.element.body.iterchildren():
        deadline.check()
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


def _docx_unpacked_size_check(data: bytes, *, name: str, limits: ExtractionLimits) -> None:
    # The declared sizes bound what zipfile inflates, so they can be trusted for this check.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > limits.max_unpacked_bytes:
        raise ApplicationError(
            DOCUMENT_ZIP_BOMB,
            f'"{name}" unpacks to {_megabytes(unpacked)}, more than a document may '
            f"({_megabytes(limits.max_unpacked_bytes)}).",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )


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


def _html_text(html: str, *, deadline: _Deadline) -> str:
    parser = _HtmlText()
    for start in range(0, len(html), _HTML_PIECE):
        deadline.check()
        parser.feed(html[start : start + _HTML_PIECE])
    parser.close()
    return "\n\n".join(parser.blocks)
