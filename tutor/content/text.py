"""Reading a chunk as sentences, and comparing texts the way quotes and answers are compared.

A chunk's text keeps its document's line breaks (a PDF breaks lines mid-sentence) and Markdown
marks. `plain_text` is the one view of it that quotes are taken from and checked against:
headings and emphasis marks dropped, whitespace collapsed. So a quote "appears in the chunk" when
it is a substring of the chunk's plain text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from tutor.content.drafts import SourceChunk

_WS = re.compile(r"\s+")
_MD_HEADING = re.compile(r"^\s*#{1,6}\s+(.*?)\s*#*\s*$")
_MD_MARKS = re.compile(r"\*\*|__|`")
_BULLET = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(\[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    {"e.g.", "i.e.", "etc.", "dr.", "mr.", "mrs.", "st.", "vs.", "no.", "approx.", "cf."}
)
_TERMINAL = (".", "!", "?", ":", ";", ",")
WORD = re.compile(r"[^\W_](?:[\w'’+.-]*[\w+])?")
_PUNCT = re.compile(r"[^\w\s]")
_GLUED_TITLE = re.compile(r"^(?P<body>.*[.!?])\s+(?P<title>[A-Z0-9][^.!?:;,()]*)$")


def word_set(text: str) -> frozenset[str]:
    """The words of a whitespace-separated list (kept as text: one word per line reads badly)."""
    return frozenset(text.split())


STOPWORDS = word_set(
    """
    a about above after again against all almost also although always am among an and any
    are around as at be because been before being below between both but by can could did do
    does doing down during each either else even every few for from further had has have
    having he her here hers him his how however i if in into is it its itself just least
    less like made make makes many may might more most much must my near no nor not of off
    often on once one only or other our out over own per rather same she should since so
    some such than that the their them then there these they this those through thus to too
    under until up upon us used uses using very was we were what when where whether which
    while who whom whose why will with within without would yet you your instead another
    others still already usually called known
    """
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence (or list item) of a chunk in its plain form, with the heading above it."""

    text: str
    chunk_id: int
    heading: str
    paragraph: int
    order: int  # position in the document, across chunks


def normalise_space(text: str) -> str:
    return _WS.sub(" ", text).strip()


def plain_text(text: str) -> str:
    """The chunk's text as quotes see it: no heading or emphasis marks, whitespace collapsed."""
    lines = [_MD_HEADING.sub(r"\1", line) for line in text.splitlines()]
    return normalise_space(_MD_MARKS.sub("", "\n".join(lines)))


def comparable(text: str) -> str:
    """Case, accents' width forms, punctuation and spacing ignored: for answers and prompts."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    return normalise_space(_PUNCT.sub(" ", text))


def words(text: str) -> list[str]:
    return WORD.findall(text)


def word_key(word: str) -> str:
    """A crude singular, case-folded: "Thylakoids" and "thylakoid" are one word."""
    word = word.casefold().replace("’", "'").rstrip(".")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_keys(text: str) -> list[str]:
    """The keys of the words that carry meaning (no stopwords)."""
    return [word_key(word) for word in words(text) if word.casefold() not in STOPWORDS]


def supported_fraction(claim: str, source: str) -> float:
    """The share of `claim`'s content words that `source` contains (1.0 when it has none)."""
    keys = content_keys(claim)
    if not keys:
        return 1.0
    have = set(content_keys(source))
    return sum(1 for key in keys if key in have) / len(keys)


def contains_quote(chunk_text: str, quote: str) -> bool:
    """Whether `quote` appears in the chunk (plain views, case-insensitive)."""
    quote = plain_text(quote).casefold()
    return bool(quote) and quote in plain_text(chunk_text).casefold()


def chunk_sentences(chunk: SourceChunk, *, start: int = 0, heading: str = "") -> list[Sentence]:
    """The chunk's sentences in order; `heading` is the one in force where the chunk begins.

    Headings are Markdown headings or short lines without final punctuation after a finished
    sentence (PDF and plain text titles); list items are sentences of their own.
    """
    sentences: list[Sentence] = []
    paragraph: list[str] = []
    paragraph_index = 0

    def flush() -> None:
        nonlocal paragraph, paragraph_index
        text = normalise_space(_MD_MARKS.sub("", " ".join(paragraph)))
        paragraph = []
        if not text:
            return
        for piece in sentence_split(text):
            sentences.append(Sentence(piece, chunk.id, heading, paragraph_index, start + len(sentences)))
        paragraph_index += 1

    lines = [raw.strip() for raw in chunk.text.splitlines()]
    for index, line in enumerate(lines):
        match = _MD_HEADING.match(line)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        glued = _GLUED_TITLE.match(line) if following[:1].isupper() else None
        if glued and _title_words(glued.group("title")):
            # The chunker joins a title line to the sentence before it ("... O2. Where it happens").
            paragraph.append(glued.group("body"))
            flush()
            heading = glued.group("title")
        elif not line:
            flush()
        elif match:
            flush()
            heading = normalise_space(_MD_MARKS.sub("", match.group(1)))
        elif _BULLET.match(line):
            flush()
            paragraph = [_BULLET.sub("", line)]
            flush()
        elif _looks_like_title(line, paragraph):
            flush()
            heading = line
        else:
            paragraph.append(line)
    flush()
    return sentences


def _title_words(text: str) -> bool:
    parts = text.split()
    if not 1 <= len(parts) <= 6:
        return False
    # "... The enzyme\nRuBisCO fixes": an article and one word is a wrapped line, not a title.
    if parts[-1].casefold() in STOPWORDS:
        return False  # "... Using ATP and\nNADPH from": a sentence wrapped mid-phrase
    return not (len(parts) == 2 and parts[0] in ("The", "A", "An"))


def _looks_like_title(line: str, paragraph: list[str]) -> bool:
    ended = not paragraph or paragraph[-1].rstrip().endswith((".", "!", "?", ":"))
    first = line[0]
    return (
        ended
        and len(line.split()) <= 6
        and not line.endswith(_TERMINAL)
        and (first.isupper() or first.isdigit())
    )


def sentence_split(text: str) -> list[str]:
    pieces: list[str] = []
    current = ""
    for piece in _SENTENCE_END.split(text):
        current = f"{current} {piece}" if current else piece
        last = current.rsplit(" ", 1)[-1].casefold()
        if last in _ABBREVIATIONS:
            continue
        pieces.append(current.strip())
        current = ""
    if current:
        pieces.append(current.strip())
    return [piece for piece in pieces if piece]


def document_sentences(chunks: list[SourceChunk]) -> list[Sentence]:
    """All sentences of the chunks in order, each once (chunks overlap by a few sentences)."""
    seen: set[str] = set()
    result: list[Sentence] = []
    heading = ""
    for chunk in chunks:
        for sentence in chunk_sentences(chunk, start=len(result), heading=heading):
            heading = sentence.heading
            key = comparable(sentence.text)
            if key in seen:
                continue
            seen.add(key)
            result.append(
                Sentence(sentence.text, chunk.id, sentence.heading, sentence.paragraph, len(result))
            )
    return result


@functools.lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str]:
    """A term as a whole word or phrase, case-insensitive, with an optional plural ending."""
    body = r"\s+".join(re.escape(part) for part in term.split())
    return re.compile(rf"(?<![\w-]){body}(?:s|es)?(?![\w+-])", re.IGNORECASE)


def document_title(chunks: list[SourceChunk]) -> str:
    """The first heading of the first chunk, if it starts with one."""
    for raw in chunks[0].text.splitlines() if chunks else []:
        line = raw.strip()
        if not line:
            continue
        match = _MD_HEADING.match(line)
        if match:
            return normalise_space(_MD_MARKS.sub("", match.group(1)))
        return line if _looks_like_title(line, []) else ""
    return ""
