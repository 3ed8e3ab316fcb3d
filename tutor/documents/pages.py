"""Which page each passage of a PDF starts on, from where each page begins in the text.

The chunker reflows whitespace, so a passage is found by its first characters in a copy of the
text with every run of whitespace made one space; passages come in reading order, so each search
starts where the previous passage began.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

_PROBE_CHARS = 60


def chunk_pages(text: str, page_starts: Sequence[int] | None, chunk_texts: Sequence[str]) -> list[int | None]:
    """1-based page numbers per passage; None where the passage cannot be placed (or no pages)."""
    if not page_starts:
        return [None] * len(chunk_texts)
    squeezed, origin = _squeeze(text)
    pages: list[int | None] = []
    cursor = 0
    for chunk in chunk_texts:
        probe = " ".join(chunk.split())[:_PROBE_CHARS]
        at = squeezed.find(probe, cursor) if probe else -1
        if at < 0:
            pages.append(None)
            continue
        cursor = at
        pages.append(bisect_right(page_starts, origin[at]))
    return pages


def _squeeze(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    origin: list[int] = []
    space = False
    for index, char in enumerate(text):
        if char.isspace():
            if space:
                continue
            chars.append(" ")
            space = True
        else:
            chars.append(char)
            space = False
        origin.append(index)
    return "".join(chars), origin
