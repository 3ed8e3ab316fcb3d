"""Language helpers of the local provider: words, stopwords, sentences, language guessing.

Deliberately small rules for the languages our shops write in (Danish, English, Swedish,
German, Norwegian); they only have to be good enough to pick sentences from retrieved context.
"""

from __future__ import annotations

import re

# Letters and digits, with Danish and other Nordic letters kept as they are.
WORD_RE = re.compile(r"[^\W_]+")

_STOPWORD_TEXT = {
    "da": (
        "og i er til det en et den de af på med for at som vi du jeg ikke der har kan om ved fra efter "
        "over hvis så eller hele også samt dit din dine vores jeres man skal vil kun hvad hvor hvordan "
        "hvornår hvem hvilken hvilke mit min mine sig sin sit bliver blev være var han hun når under "
        "inden mellem mod uden bare noget nogen meget mere end lige nu her"
    ),
    "en": (
        "the and is are to of in for with on at we you i it can be by from after over if or not our "
        "your an a this that these those as do does did how what when where which who whom why long "
        "much many my me us they them their there was were will would should could have has had into "
        "than then also only any all some more most very about up out so"
    ),
    "sv": (
        "och i är till det en ett den de av på med för att som vi du jag inte har kan om vid från efter "
        "över eller också vår våra din dina hur vad när var vem vilken mitt min sig sin blir vara "
        "hon han under utan mycket mer än här"
    ),
    "de": (
        "und ist sind zu der die das den dem des ein eine einen einem einer von mit für auf wir sie "
        "nicht kann können bei aus nach über oder auch unser unsere ihr ihre wie was wann wo wer "
        "welche ich du es im in an am zum zur als wird werden hat haben sein"
    ),
    "no": (
        "og i er til det en et den de av på med for at som vi du jeg ikke har kan om ved fra etter over "
        "eller også vår våre din dine hvordan hva når hvor hvem hvilken min mitt seg sin blir være "
        "hun han under uten mye mer enn her"
    ),
}
STOPWORDS: dict[str, frozenset[str]] = {
    language: frozenset(text.split()) for language, text in _STOPWORD_TEXT.items()
}
ALL_STOPWORDS: frozenset[str] = frozenset().union(*STOPWORDS.values())

# Letters that point to a language even in a short sentence.
_LETTER_HINTS: dict[str, tuple[str, ...]] = {
    "æ": ("da", "no"),
    "ø": ("da", "no"),
    "å": ("da", "sv", "no"),
    "ä": ("sv", "de"),
    "ö": ("sv", "de"),
    "ü": ("de",),
    "ß": ("de",),
}

_BULLET_RE = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+")
_EMPHASIS_RE = re.compile(r"\*\*|__|`")
# Split after . ! ? when a capital letter (or a quote) starts the next sentence; a digit or a
# lower-case word after the stop means an abbreviation ("kl. 13", "49 kr., 1-3 hverdage").
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[\"“'(A-ZÆØÅÄÖÜ])")


def words(text: str) -> list[str]:
    """Lower-cased words of `text`."""
    return WORD_RE.findall(text.lower())


def content_words(text: str) -> list[str]:
    """Words that carry meaning: no stopwords, no one-letter words."""
    return [word for word in words(text) if word not in ALL_STOPWORDS and (len(word) > 1 or word.isdigit())]


def normalise_language(language: str) -> str:
    """`da-DK` -> `da`, `nb` -> `no`; unknown or empty -> `en`."""
    code = (language or "en").replace("_", "-").split("-")[0].lower()
    if code in ("nb", "nn"):
        return "no"
    return code or "en"


def guess_language(text: str) -> str | None:
    """The most likely language of `text` among da, en, sv, de and no, or None when unclear."""
    tokens = words(text)
    if not tokens:
        return None
    scores = {language: sum(token in stop for token in tokens) for language, stop in STOPWORDS.items()}
    lowered = text.lower()
    for letter, languages in _LETTER_HINTS.items():
        if letter in lowered:
            for language in languages:
                scores[language] += 2
    # Dictionary order breaks ties: Danish before Norwegian, as our shops are Danish.
    best = max(scores, key=lambda language: scores[language])
    return best if scores[best] > 0 else None


def passages(text: str) -> list[str]:
    """Split Markdown-ish text into sentences and bullet items, without headings or markup."""
    units: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            units.extend(_sentences(" ".join(paragraph)))
            paragraph.clear()

    for raw_line in text.splitlines():
        line = _EMPHASIS_RE.sub("", raw_line).strip()
        if not line or line.startswith("#"):
            flush()
            continue
        if _BULLET_RE.match(line):
            flush()
            item = _BULLET_RE.sub("", line).strip()
            if item:
                units.append(_with_stop(item))
            continue
        paragraph.append(line)
    flush()
    return units


def _sentences(paragraph: str) -> list[str]:
    return [
        _with_stop(sentence.strip()) for sentence in _SENTENCE_END_RE.split(paragraph) if sentence.strip()
    ]


def _with_stop(sentence: str) -> str:
    return sentence if sentence[-1] in ".!?:;" else f"{sentence}."
