"""Which key concepts a learner's summary covers: by the concept's term, or by enough of its
definition's words. Words are compared after a light normalisation (case, accents, stopwords,
common English suffixes), so that "produces" meets "produced" without a stemming library."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from chatplatform.ai.text import ALL_STOPWORDS

_WORD = re.compile(r"[^\W_]+")
# Longest first; each (suffix, replacement). Applied once per word.
_SUFFIXES = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("isation", "ize"),
    ("fulness", "ful"),
    ("iveness", "ive"),
    ("ousness", "ous"),
    ("ments", ""),
    ("ment", ""),
    ("ingly", ""),
    ("edly", ""),
    ("sses", "ss"),
    ("ies", "y"),
    ("ied", "y"),
    ("ing", ""),
    ("ed", ""),
    ("es", ""),
    ("ly", ""),
    ("s", ""),
)
_KEEP_FINAL_S = ("ss", "us", "is")

# A concept counts as covered by its definition when this share of its content words appears.
DEFINITION_OVERLAP = 0.6
# Definitions shorter than this (in content words) are too thin to judge by overlap.
DEFINITION_MIN_WORDS = 3


def stem(word: str) -> str:
    """A light English stem: plural, tense and a few derivational endings, then a final "e"
    and a doubled consonant, so that produce/produces/produced/producing share one stem."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in _SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        if suffix == "s" and word.endswith(_KEEP_FINAL_S):
            break
        word = word[: -len(suffix)] + replacement
        break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz" and word[-1].isalpha():
        word = word[:-1]
    return word


def normalised_words(text: str) -> list[str]:
    """Content words of `text`, accent-free, lower-case and stemmed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [
        stem(word)
        for word in _WORD.findall(plain)
        if word not in ALL_STOPWORDS and (len(word) > 1 or word.isdigit())
    ]


@dataclass(frozen=True)
class KeyConcept:
    term: str
    definition: str = ""


@dataclass(frozen=True)
class ConceptMatch:
    term: str
    covered: bool
    # "term" when the term's words all appear, "definition" when enough of the definition does.
    via: str
    term_overlap: float
    definition_overlap: float

    def as_dict(self) -> dict:
        return {
            "term": self.term,
            "covered": self.covered,
            "via": self.via,
            "term_overlap": self.term_overlap,
            "definition_overlap": self.definition_overlap,
        }


@dataclass(frozen=True)
class Coverage:
    matches: list[ConceptMatch]

    @property
    def covered(self) -> list[str]:
        return [match.term for match in self.matches if match.covered]

    @property
    def missed(self) -> list[str]:
        return [match.term for match in self.matches if not match.covered]

    @property
    def share(self) -> float | None:
        """Covered concepts over all of them; None when there were none to cover."""
        if not self.matches:
            return None
        return round(len(self.covered) / len(self.matches), 4)


def _overlap(wanted: set[str], present: set[str]) -> float:
    if not wanted:
        return 0.0
    return round(len(wanted & present) / len(wanted), 4)


def concept_coverage(summary: str, concepts: Iterable[KeyConcept]) -> Coverage:
    """Match each concept (in the given order, duplicates by term once) against the summary."""
    present = set(normalised_words(summary))
    matches: list[ConceptMatch] = []
    seen: set[str] = set()
    for concept in concepts:
        key = " ".join(normalised_words(concept.term)) or concept.term.casefold().strip()
        if not key or key in seen:
            continue
        seen.add(key)
        term_words = set(normalised_words(concept.term))
        definition_words = set(normalised_words(concept.definition)) - term_words
        term_overlap = _overlap(term_words, present)
        definition_overlap = _overlap(definition_words, present)
        if term_words and term_overlap == 1.0:
            via = "term"
        elif len(definition_words) >= DEFINITION_MIN_WORDS and definition_overlap >= DEFINITION_OVERLAP:
            via = "definition"
        else:
            via = ""
        matches.append(
            ConceptMatch(
                term=concept.term,
                covered=bool(via),
                via=via,
                term_overlap=term_overlap,
                definition_overlap=definition_overlap,
            )
        )
    return Coverage(matches=matches)
