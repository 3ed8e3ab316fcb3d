"""Terms for lexical matching: words without stopwords, stemmed with Snowball (PyStemmer).

A shop's texts and its shoppers mix Danish and English, often in one index, so every word goes
through the Danish stemmer, the English one and the Danish one again: "flasker" and "flaske"
meet as "flask", "returnere" and "returned" as "return", "orders" and "ordering" as "ord"
(either stemmer alone leaves some of these apart). Stemming a word the other language's way is
harmless here because questions and passages are stemmed the same way.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import Stemmer

from chatplatform.ai.text import ALL_STOPWORDS, words

# Words a question is phrased with rather than about: asking, wanting, being able to. They are
# no stopwords for the texts, but a question's share of matched words must not depend on them.
QUESTION_FILLER = frozenset(
    {
        "mange",
        "meget",
        "tager",
        "tage",
        "imod",
        "få",
        "får",
        "gøre",
        "gør",
        "gerne",
        "godt",
        "hos",
        "jer",
        "os",
        "mig",
        "lige",
        "hvilket",
        "andre",
        "nogle",
        "noget",
        "selv",
        "sige",
        "have",
        "havde",
        "give",
        "komme",
        "kommer",
        "går",
        "står",
        "ligger",
        "finde",
        "hjælp",
        "hej",
        "tak",
        "please",
        "tell",
        "know",
        "want",
        "like",
        "would",
        "get",
        "any",
        "many",
        "much",
        "need",
        "also",
        "well",
        "thanks",
        "hello",
        "hi",
        "before",
        "something",
    }
)

_DANISH = Stemmer.Stemmer("danish")
_ENGLISH = Stemmer.Stemmer("english")


@lru_cache(maxsize=131_072)
def term(word: str) -> str:
    """The stem a lower-case word is matched by."""
    if word.isdigit():
        return word
    return _DANISH.stemWord(_ENGLISH.stemWord(_DANISH.stemWord(word)))


def terms(text: str) -> list[str]:
    """The stems of `text`'s meaningful words, in order, repeats kept."""
    return [
        term(word) for word in words(text) if word not in ALL_STOPWORDS and (len(word) > 1 or word.isdigit())
    ]


_GLOSSARY_FILE = Path(__file__).with_name("glossary_da_en.txt")


@lru_cache(maxsize=1)
def _glossary() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Stem -> the stems it may stand for: each line's left-hand words stand for those on its
    right (a Danish word for its English counterparts, "store" for "shop"). Second, the same
    with one-word counterparts only, for passages: "pakkeshop" (parcel shop) in a passage must
    not answer a question about a shop."""
    table: dict[str, set[str]] = {}
    single: dict[str, set[str]] = {}
    for line in _GLOSSARY_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "=" not in line:
            continue
        left, right = (part.strip() for part in line.split("=", 1))
        meanings = [terms(meaning) for meaning in right.split(";")]
        for stem in terms(left):
            for meaning in meanings:
                table.setdefault(stem, set()).update(set(meaning) - {stem})
                if len(meaning) == 1:
                    single.setdefault(stem, set()).update(set(meaning) - {stem})
    return (
        {stem: tuple(sorted(found)) for stem, found in table.items()},
        {stem: tuple(sorted(found)) for stem, found in single.items() if found},
    )


def known_stem(stem: str) -> bool:
    return stem in _glossary()[0]


def translations(stem: str) -> tuple[str, ...]:
    """Stems a stem may stand for in a shop's texts, in Danish or English (none for most)."""
    return _glossary()[0].get(stem, ())


def passage_translations(stem: str) -> tuple[str, ...]:
    """What a stem in a passage also stands for: one-word counterparts only."""
    return _glossary()[1].get(stem, ())


def query_groups(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """One group per meaningful word of a question: the word, and its stem followed by the stems
    of what it stands for (`translations`). A passage matching any of a group matches the word."""
    groups: dict[str, tuple[str, tuple[str, ...]]] = {}
    for word in words(text):
        if word in ALL_STOPWORDS or word in QUESTION_FILLER or (len(word) < 2 and not word.isdigit()):
            continue
        stem = term(word)
        if stem not in groups:
            groups[stem] = (word, (stem, *(other for other in translations(stem) if other != stem)))
    return list(groups.values())
