"""Okapi BM25 over a handful to thousands of passages, for lexical matching beside vectors.

Terms are Snowball stems (`stems`); a Danish word also stands for its English counterparts
(`glossary_da_en.txt`), in passages and questions alike, so "Hvor lang tid gælder et gavekort?"
meets "gift cards ... valid for 3 years", and an English question meets a Danish passage. Each
word of a question counts once, by the best of its forms, and an unknown Danish compound
("chokoladedessert") by its known parts. Besides the BM25 score every hit has a *coverage*: the
share of the question's idf weight the passage holds, comparable across indexes.

The statistics are built once (`LexicalIndex(texts)`); a search is a few dictionary reads and
one NumPy update per query term.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from chatplatform.ai.stems import known_stem, passage_translations, query_groups, term, terms, translations

# An amount with its currency: 49 kr., 129 DKK, € 12.
PRICE = re.compile(r"\d[\d.,]*\s*(?:kr\b|kr\.|dkk|sek|nok|eur|€|\$)|(?:€|\$)\s*\d", re.IGNORECASE)
_PRICE_TERMS = tuple(terms("price cost pris"))
# The subject of a "subject: details" line is at most this long.
_MAX_HEAD = 60
# A colon followed by a space, not one inside a time ("17:00").
_HEAD = re.compile(rf"^([^:]{{1,{_MAX_HEAD}}}):\s")


def head_of(passage: str) -> str:
    """The subject of a "subject: details" list item or sentence ("Roast lamb, beef steaks"),
    which says what the passage is about; "" for other passages."""
    match = _HEAD.match(passage)
    return match.group(1) if match else ""


# Okapi BM25's usual constants.
_K1 = 1.2
_B = 0.75
_MAX_CACHED = 64
# Danish compounds ("chokoladedessert") are split when the whole word is unknown: each part at
# least this long.
_MIN_PART = 3


@dataclass(frozen=True)
class LexicalHit:
    row: int
    score: float
    # Share of the question's idf weight found in the passage (0-1): how fully it matches.
    coverage: float


class LexicalIndex:
    """BM25 statistics of one index's passages, rows in the vector matrix's order."""

    def __init__(self, texts: list[str]) -> None:
        self.size = len(texts)
        postings: dict[str, dict[int, int]] = {}
        lengths = np.zeros(self.size, dtype=np.float32)
        for row, text in enumerate(texts):
            counts = Counter(terms(text))
            lengths[row] = sum(counts.values())
            # A Danish word's English counterparts, once each: an English question finds it.
            for stem in list(counts):
                for other in passage_translations(stem):
                    counts.setdefault(other, 1)
            # An amount of money answers "what does it cost?" in any wording.
            if PRICE.search(text):
                for stem in _PRICE_TERMS:
                    counts.setdefault(stem, 1)
            for stem, count in counts.items():
                postings.setdefault(stem, {})[row] = count
        average = float(lengths.mean()) if self.size else 1.0
        norm = _K1 * (1 - _B + _B * lengths / max(average, 1.0))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._idf: dict[str, float] = {}
        for stem, rows in postings.items():
            index = np.fromiter(rows.keys(), dtype=np.int32, count=len(rows))
            tf = np.fromiter(rows.values(), dtype=np.float32, count=len(rows))
            # Each posting's BM25 term weight without idf, worked out once.
            self._postings[stem] = (index, tf * (_K1 + 1) / (tf + norm[index]))
            self._idf[stem] = self.idf(len(rows))

    def idf(self, document_frequency: int) -> float:
        return math.log(1 + (self.size - document_frequency + 0.5) / (document_frequency + 0.5))

    def search(self, text: str, top_k: int) -> list[LexicalHit]:
        """The `top_k` best passages by BM25, best first; only those sharing a term."""
        scores, coverage = self.scores(text)
        count = int(np.count_nonzero(scores))
        if not count:
            return []
        order = np.argsort(-scores, kind="stable")[: min(top_k, count)]
        return [LexicalHit(int(row), float(scores[row]), float(coverage[row])) for row in order]

    def scores(self, text: str, *, by_form: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """BM25 score and coverage of every passage for the question `text`.

        Each word of the question counts once, by the best of its stem, its English
        counterparts and, for an unknown compound, its parts. With `by_form` a word counts in
        the coverage by the rarity of the form the passage holds: a passage holding the word
        only through a common form ("wine" for "vinklubben") holds less of it than one with a
        rare form ("club"); telling flows apart, that matters."""
        groups = [self._with_parts(group) for group in query_groups(text)]
        scores = np.zeros(self.size, dtype=np.float32)
        if not groups or not self.size:
            return scores, scores.copy()
        matched = np.zeros(self.size, dtype=np.float32)
        total = 0.0
        for group in groups:
            # A word no passage has still counts in the whole: a question about cigars in a
            # wine shop is not fully answered by a passage about wine.
            idf = max(self._idf.get(stem, 0.0) for stem in group) or self.idf(0)
            total += idf
            best = np.zeros(self.size, dtype=np.float32)
            held = np.zeros(self.size, dtype=np.float32)
            for stem in group:
                posting = self._postings.get(stem)
                if posting is not None:
                    rows, weights = posting
                    np.maximum.at(best, rows, self._idf[stem] * weights)
                    if by_form:
                        np.maximum.at(held, rows, self._idf[stem])
            scores += best
            matched += held if by_form else np.where(best > 0, idf, 0.0).astype(np.float32)
        return scores, matched / total

    def _with_parts(self, word_group: tuple[str, tuple[str, ...]]) -> tuple[str, ...]:
        """The group's stems, with the known parts of a compound word no passage has."""
        word, group = word_group
        if any(other in self._postings for other in group) or len(word) < 2 * _MIN_PART + 1:
            return group
        for cut in range(_MIN_PART, len(word) - _MIN_PART + 1):
            head, tail = term(word[:cut]), term(word[cut:])
            known = [part for part in (head, tail) if part in self._postings or known_stem(part)]
            if len(known) == 2 or (known and min(cut, len(word) - cut) >= 4):
                parts = [alt for part in known for alt in (part, *translations(part))]
                return tuple(dict.fromkeys((*group, *parts)))
        return group
