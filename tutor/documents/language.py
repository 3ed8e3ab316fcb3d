"""A document's language as an ISO 639-1 code, from a sample of its text (langdetect).

langdetect is probabilistic; seeding its factory makes the answer the same on every run. Short
or symbol-only texts give "" rather than a guess.
"""

from langdetect import DetectorFactory, LangDetectException, detect_langs

DetectorFactory.seed = 0

_SAMPLE_CHARS = 5000
_MIN_LETTERS = 20
_MIN_PROBABILITY = 0.7


def language_detect(text: str) -> str:
    sample = text[:_SAMPLE_CHARS]
    if sum(char.isalpha() for char in sample) < _MIN_LETTERS:
        return ""
    try:
        best = detect_langs(sample)[0]
    except (LangDetectException, IndexError):
        return ""
    return best.lang if best.prob >= _MIN_PROBABILITY else ""
