"""The local provider: no network, deterministic, good enough to demo and test the platform.

Embeddings are feature-hashed word and character n-grams; answers are extracted from the
retrieved context; image descriptions are what Pillow can measure.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from django.conf import settings

from chatplatform import telemetry
from chatplatform.ai import imagefacts
from chatplatform.ai.base import PROVIDER_NOT_SUPPORTED, ChatRequest, ChatStream, ProviderError, Usage
from chatplatform.ai.bm25 import LexicalIndex, head_of
from chatplatform.ai.text import (
    ALL_STOPWORDS,
    content_words,
    guess_language,
    normalise_language,
    passages,
    words,
)

_UNIGRAM_WEIGHT = 1.0
_STOPWORD_WEIGHT = 0.2
_BIGRAM_WEIGHT = 0.8
_CHAR_NGRAM_WEIGHT = 0.25
_CHAR_NGRAM_SIZES = (3, 4, 5)
# Above this many texts `aembed` hashes in a thread so the event loop keeps serving.
_INLINE_EMBED_LIMIT = 32
# What telemetry names the local models.
EMBEDDING_MODEL = "feature-hashing"


@lru_cache(maxsize=262_144)
def _slot(feature: str, dimension: int) -> tuple[int, float]:
    # blake2b, not hash(): vectors must be identical across processes and restarts.
    value = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return value % dimension, (1.0 if value >> 63 else -1.0)


@lru_cache(maxsize=65_536)
def _word_features(word: str, dimension: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Slots and signed weights of a word's unigram and its character n-grams."""
    if word in ALL_STOPWORDS:
        index, sign = _slot(f"w:{word}", dimension)
        return (index,), (sign * _STOPWORD_WEIGHT,)
    indices: list[int] = []
    weights: list[float] = []
    index, sign = _slot(f"w:{word}", dimension)
    indices.append(index)
    weights.append(sign * _UNIGRAM_WEIGHT)
    if len(word) >= 3:
        padded = f"<{word}>"
        for size in _CHAR_NGRAM_SIZES:
            for start in range(len(padded) - size + 1):
                index, sign = _slot(f"c:{padded[start : start + size]}", dimension)
                indices.append(index)
                weights.append(sign * _CHAR_NGRAM_WEIGHT)
    return tuple(indices), tuple(weights)


class LocalEmbedder:
    """Feature hashing of word unigrams, bigrams of meaningful words and character 3-5-grams.

    Vectors are L2-normalised, so a dot product is the cosine; an empty text gives a zero vector.
    """

    name = "local"

    def __init__(self, dimension: int | None = None) -> None:
        self.dimension = int(dimension or settings.LOCAL_EMBEDDING_DIMENSION)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed texts (sync)."""
        with telemetry.span(operation="embeddings", provider="local", model=EMBEDDING_MODEL) as span:
            span.estimate_from(input_text="\n".join(texts))
            return self.embed_matrix(texts).tolist()

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        """Embed texts (async); large batches are hashed in a worker thread."""
        if len(texts) > _INLINE_EMBED_LIMIT:
            return await asyncio.to_thread(self.embed, texts)
        return self.embed(texts)

    async def aembed_query(self, text: str) -> np.ndarray:
        """One question's vector, hashed right here (well under a millisecond) and remembered by
        text: the router, each flow's retrieval and repeated questions share it."""
        with telemetry.span(operation="embeddings", provider="local", model=EMBEDDING_MODEL) as span:
            span.estimate_from(input_text=text)
            return _query_vector(self, text)

    def embed_matrix(self, texts: Iterable[str]) -> np.ndarray:
        """Embed texts into a float32 matrix of shape (len(texts), dimension)."""
        rows = [self._vector(text) for text in texts]
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack(rows)

    def _vector(self, text: str) -> np.ndarray:
        tokens = words(text)
        indices: list[int] = []
        weights: list[float] = []
        for token in tokens:
            word_indices, word_weights = _word_features(token, self.dimension)
            indices.extend(word_indices)
            weights.extend(word_weights)
        meaningful = [token for token in tokens if token not in ALL_STOPWORDS]
        for first, second in itertools.pairwise(meaningful):
            index, sign = _slot(f"b:{first} {second}", self.dimension)
            indices.append(index)
            weights.append(sign * _BIGRAM_WEIGHT)
        vector = np.bincount(indices, weights=weights, minlength=self.dimension).astype(np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector


@lru_cache(maxsize=2048)
def _query_vector(embedder: LocalEmbedder, text: str) -> np.ndarray:
    vector = embedder._vector(text)
    vector.setflags(write=False)
    return vector


# --- chat ------------------------------------------------------------------------------------

NOT_FOUND = {
    "da": "Det kunne jeg desværre ikke finde i vores vidensbase.",
    "en": "I could not find that in our knowledge base.",
    "sv": "Det kunde jag tyvärr inte hitta i vår kunskapsbas.",
    "de": "Das konnte ich leider nicht in unserer Wissensdatenbank finden.",
    "no": "Det fant jeg dessverre ikke i kunnskapsbasen vår.",
}

# Questions about prices or durations are answered by sentences with amounts or time spans.
_PRICE_QUESTION = re.compile(
    r"\b(koster|pris|priser|prisen|cost|costs|price|prices|how much|kostar|priset|kostet|kosten|preis"
    r"|gebühr)\b",
    re.IGNORECASE,
)
_PRICE_FACT = re.compile(r"\d[\d.,]*\s*(?:kr\b|kr\.|dkk|sek|nok|eur|€|\$)|(?:€|\$)\s*\d", re.IGNORECASE)
_DURATION_QUESTION = re.compile(
    r"\b(how long|how many days|hvor længe|hvornår|hur länge|wie lange|wann|hvor lenge)\b"
    # "when" asks for a time at the start of a question, not in "... when I return it".
    r"|^\W*(when|når|när)\b",
    re.IGNORECASE,
)
_DURATION_FACT = re.compile(
    r"\d+(?:\s*-\s*\d+)?\s*(?:days?|weeks?|months?|years?|hours?|dage|hverdage|uger|måneder|år|timer|"
    r"dagar|veckor|månader|timmar|tage|wochen|monate|jahre|stunden|dager|uker|måneder|timer)\b"
    # A time of day answers "when?" too.
    r"|\b\d{1,2}[:.]\d{2}\b|\bkl\. ?\d",
    re.IGNORECASE,
)
# "How many ..." is answered by a sentence with a number in it.
_COUNT_QUESTION = re.compile(
    r"\b(how many|how much|how old|what age|hvor mange|hvor meget|hvor gammel|hur många|wie viele"
    r"|hvor mye)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
# "How often?" is answered by a sentence that says how often; "which day?" by a weekday; "how
# cold?" by degrees.
_FREQUENCY_QUESTION = re.compile(r"\b(how often|how frequently|hvor ofte|hvor tit|hur ofta|wie oft)\b", re.I)
_FREQUENCY_FACT = re.compile(
    r"\b(every|each|hver|hvert|hveranden|varje|jede[nr]?|om ugen|om måneden)\b"
    r"|\bper (week|month|year|uge|måned|år)\b",
    re.I,
)
_DAY_QUESTION = re.compile(
    r"\b(what day|which day|which days|hvilken dag|hvilke dage|ugedag\w*|weekday)\b", re.I
)
_DAY_FACT = re.compile(
    r"\b(mon|tues|wednes|thurs|fri|satur|sun)days?\b|\b(man|tirs|ons|tors|fre|lør|søn)dag(e|en)?\b", re.I
)
_TEMPERATURE_QUESTION = re.compile(
    r"\b(temperature\w*|temperatur\w*|how cold|how warm|hvor kold\w*|hvor varm\w*|degrees|grader)\b", re.I
)
_TEMPERATURE_FACT = re.compile(r"\d+\s*(?:-\s*\d+\s*)?(?:degrees|grader|°)", re.I)
_DISCOUNT_QUESTION = re.compile(r"\b(rabat\w*|discount\w*|rebate|rabatt\w*)\b", re.I)
_PERCENT_FACT = re.compile(r"\d+\s*%")
_CUE_BONUS = 0.15
_ASKED_BONUS = 0.3
# How much a sentence's similarity and its subject's match add to its share of the question.
_COSINE_WEIGHT = 0.5
_HEAD_WEIGHT = 1.0
# A sentence must hold this share of the question's weight, or be this similar, to count.
_MIN_COVERAGE = 0.05
_MIN_COSINE_WITHOUT_OVERLAP = 0.3
_MIN_SCORE = 0.1
# Sentences this close to the best one are good enough to include.
_GOOD_FRACTION = 0.7
# ... and those in the asker's language this close are preferred to the others.
_SAME_LANGUAGE_FRACTION = 0.85
_MAX_SENTENCES = 3
# A sentence opening with one of these goes on from the one before it.
_CONTINUES = re.compile(r"^(they|it|this|these|those|den|det|de|disse|dette)\b", re.IGNORECASE)
_ANSWER_WORD_RE = re.compile(r"\S+\s*")


@dataclass(frozen=True, slots=True)
class _Candidate:
    text: str
    order: tuple[int, int]
    score: float
    language: str | None


class LocalChatProvider:
    """Extractive answers from the retrieved context, streamed word by word."""

    name = "local"
    composes_text = False

    def __init__(self, embedder: LocalEmbedder | None = None) -> None:
        self.embedder = embedder or LocalEmbedder()

    def stream_chat(self, request: ChatRequest) -> ChatStream:
        """Stream the best 1-3 context sentences, or a "not found" line in the request's language."""
        return ChatStream(self._answer(request))

    async def _answer(self, request: ChatRequest) -> AsyncGenerator[str | Usage, None]:
        with telemetry.span(operation="chat", provider="local", model="extractive") as span:
            text = self.answer_text(request)
            # Words, not tokens: the recorder counts the texts' tokens, marked as estimated.
            span.estimate_from(input_text=_messages_text(request), output_text=text)
            deltas = _ANSWER_WORD_RE.findall(text)
            stopped: BaseException | None = None
            try:
                for number, delta in enumerate(deltas):
                    if not number:
                        span.first_token()
                    yield delta
            except (GeneratorExit, asyncio.CancelledError) as exc:
                # Stopped (the shopper's stop, a shutdown): recorded as a call that went well.
                span.set("stopped", True)
                stopped = exc
        if stopped is not None:
            raise stopped
        yield Usage(prompt_tokens=_prompt_words(request), completion_tokens=len(deltas))

    def answer_text(self, request: ChatRequest) -> str:
        """The whole answer the stream will send."""
        language = normalise_language(request.language)
        chosen = self._choose(request.question, [chunk.text for chunk in request.context], language)
        if not chosen:
            return NOT_FOUND.get(language, NOT_FOUND["en"])
        return " ".join(candidate.text for candidate in chosen)

    def _choose(self, question: str, texts: list[str], language: str) -> list[_Candidate]:
        units: list[tuple[str, tuple[int, int]]] = []
        seen: set[str] = set()
        for chunk_number, text in enumerate(texts):
            for position, unit in enumerate(passages(text)):
                key = " ".join(words(unit))
                if key and key not in seen:
                    seen.add(key)
                    units.append((unit, (chunk_number, position)))
        if not units or not content_words(question):
            return []

        # Question words weighted by how rare they are among these sentences (BM25's idf): in
        # a wine shop's texts "wine" says little, "lamb" says a lot. Stems, a Danish word's
        # English counterparts and compound parts count (`bm25`).
        lexical = LexicalIndex([unit for unit, _ in units])
        _, coverage = lexical.scores(question)
        # A list item's subject ("Roast lamb, beef steaks: ...") says what the item is about.
        heads = LexicalIndex([head_of(unit) for unit, _ in units])
        _, head_coverage = heads.scores(question)
        matrix = self.embedder.embed_matrix([question] + [unit for unit, _ in units])
        cosines = matrix[1:] @ matrix[0]
        price_question = bool(_PRICE_QUESTION.search(question))
        duration_question = bool(_DURATION_QUESTION.search(question))
        count_question = bool(_COUNT_QUESTION.search(question))
        cues = [
            fact
            for asks, fact in (
                (_FREQUENCY_QUESTION, _FREQUENCY_FACT),
                (_DAY_QUESTION, _DAY_FACT),
                (_TEMPERATURE_QUESTION, _TEMPERATURE_FACT),
                (_DISCOUNT_QUESTION, _PERCENT_FACT),
            )
            if asks.search(question)
        ]
        matched_chunks = {
            order[0] for (_, order), share in zip(units, coverage.tolist(), strict=True) if share
        }
        candidates: list[_Candidate] = []
        for number, ((unit, order), cosine) in enumerate(zip(units, cosines.tolist(), strict=True)):
            share = float(coverage[number])
            asked = any(fact.search(unit) for fact in cues)
            # A line giving what the question asks for (a temperature, a weekday) counts in a
            # chunk that matched the question, even without the question's words.
            if (
                share < _MIN_COVERAGE
                and cosine < _MIN_COSINE_WITHOUT_OVERLAP
                and not (asked and order[0] in matched_chunks)
            ):
                continue
            score = share + _HEAD_WEIGHT * float(head_coverage[number]) + _COSINE_WEIGHT * cosine
            if price_question and _PRICE_FACT.search(unit):
                score += _CUE_BONUS
            if duration_question and _DURATION_FACT.search(unit):
                score += _CUE_BONUS
            if count_question and _NUMBER.search(unit):
                score += _CUE_BONUS / 2
            if asked:
                score += _ASKED_BONUS
            if score >= _MIN_SCORE:
                candidates.append(_Candidate(unit, order, score, guess_language(unit)))
        if not candidates:
            return []

        best = max(candidate.score for candidate in candidates)
        good = [candidate for candidate in candidates if candidate.score >= best * _GOOD_FRACTION]
        in_language = [
            candidate
            for candidate in good
            if candidate.language == language and candidate.score >= best * _SAME_LANGUAGE_FRACTION
        ]
        if in_language:
            # Shops often keep the same facts in two languages; answer in the asker's.
            good = in_language
        top = sorted(good, key=lambda candidate: -candidate.score)[:_MAX_SENTENCES]
        # A sentence that goes on from a chosen one ("They can be used in the shop") belongs to it.
        by_order = {order: unit for unit, order in units}
        chosen = {candidate.order for candidate in top}
        for candidate in list(top):
            following = (candidate.order[0], candidate.order[1] + 1)
            unit = by_order.get(following)
            if unit and following not in chosen and _CONTINUES.match(unit):
                top.append(_Candidate(unit, following, candidate.score, candidate.language))
                chosen.add(following)
        return sorted(top, key=lambda candidate: candidate.order)

    async def complete_json(self, *, system: str, user: str, max_attempts: int = 2) -> dict[str, Any]:
        """Not available locally: callers fall back to their own rules."""
        with telemetry.span(operation="json", provider="local") as span:
            span.set("error.code", PROVIDER_NOT_SUPPORTED)
            raise ProviderError(
                PROVIDER_NOT_SUPPORTED, "The local AI provider cannot extract JSON.", retryable=False
            )

    async def describe_image(self, *, image: bytes, mime_type: str, prompt: str, language: str) -> str:
        """Describe format, size, dominant colours and brightness of the image."""
        with telemetry.span(operation="vision", provider="local", model="imagefacts") as span:
            description = imagefacts.describe(image, normalise_language(language))
            span.estimate_from(input_text=prompt, output_text=description)
            return description


def _messages_text(request: ChatRequest) -> str:
    parts: list[str] = []
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(part["text"] for part in content if isinstance(part, dict) and "text" in part)
    return "\n".join(parts)


def _prompt_words(request: ChatRequest) -> int:
    count = 0
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, str):
            count += len(content.split())
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    count += len(part["text"].split())
    return count or len(request.question.split())
