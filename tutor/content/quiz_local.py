"""Quiz questions built from the documents by rules: real questions, never placeholders.

- fill in the blank: a sentence with one key term blanked out;
- true/false: a stated fact as it is, or with one key term (or year) swapped for another term of
  the same document, kept only when no sentence of the documents states the swapped version;
- multiple choice: a definition matched to its term among other terms (or, harder, a term matched
  to its definition among other terms' definitions);
- short answer: the term the text gives to a definition.

Each builder yields candidates best first; `quiz.questions_pick` validates and balances them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from tutor.content.drafts import (
    BLANK,
    EASY,
    FILL_IN_BLANK,
    HARD,
    MULTIPLE_CHOICE,
    SHORT_ANSWER,
    TRUE_FALSE,
    QuestionDraft,
)
from tutor.content.terms import YEAR, Term, terms_overlap
from tutor.content.text import Sentence, comparable, content_keys, term_pattern, words
from tutor.content.validation import distractor_supported

MIN_WORDS, MAX_WORDS = 6, 45
# A sentence opening with one of these leans on the one before it ("This is called ...").
_NEEDS_CONTEXT = frozenset({"this", "it", "these", "they", "its", "their", "such", "he", "she", "those"})


def _stable_order(items: list[str], salt: str) -> list[str]:
    """A shuffle that is the same every time for the same question (the answer is not always A)."""
    return sorted(items, key=lambda item: hashlib.sha256(f"{salt}|{item}".encode()).hexdigest())


def _fits(sentence: Sentence) -> bool:
    """Long enough to test something, short enough to read, and understandable on its own."""
    parts = sentence.text.split()
    if not MIN_WORDS <= len(parts) <= MAX_WORDS or sentence.text.endswith(("?", ":")):
        return False
    return parts[0].casefold() not in _NEEDS_CONTEXT


def _single_match(term: Term, sentence: Sentence, terms: list[Term]) -> re.Match[str] | None:
    matches = list(term_pattern(term.text).finditer(sentence.text))
    if len(matches) != 1:
        return None
    for other in terms:
        # "range" inside "interquartile range" is not a fair blank.
        longer = len(other.key) > len(term.key) and terms_overlap(term.key, other.key)
        if longer and term_pattern(other.text).search(sentence.text):
            return None
    return matches[0]


def cloze_questions(terms: list[Term], sentences: list[Sentence]) -> Iterator[QuestionDraft]:
    for term in terms:
        pattern = term_pattern(term.text)
        # The definition sentence goes to the other types; a cloze on another mention tests more.
        mentions = [s for s in sentences if _fits(s) and pattern.search(s.text)]
        mentions.sort(key=lambda s: s is term.sentence)
        for sentence in mentions[:2]:
            match = _single_match(term, sentence, terms)
            if match is None:
                continue
            answer = match.group(0)
            prompt = f"{sentence.text[: match.start()]}{BLANK}{sentence.text[match.end() :]}"
            yield QuestionDraft(
                type=FILL_IN_BLANK,
                prompt=prompt,
                answer=answer,
                accepted=[
                    alias for alias in [term.text, *term.aliases] if comparable(alias) != comparable(answer)
                ],
                explanation=f"The source says: “{sentence.text}”",
                chunk_id=sentence.chunk_id,
                quote=sentence.text,
                evidence=answer,
                concept=term.text,
            )


def true_false_questions(
    terms: list[Term], sentences: list[Sentence], document_text: str
) -> Iterator[QuestionDraft]:
    """True and false statements alternately, each from a different sentence."""
    used: set[int] = set()
    want_false = True
    years = sorted({year for s in sentences for year in YEAR.findall(s.text)})
    stated = [set(content_keys(s.text)) for s in sentences]
    for term in terms:
        pattern = term_pattern(term.text)
        for sentence in sentences:
            if sentence.order in used or not _fits(sentence) or not pattern.search(sentence.text):
                continue
            question = None
            if want_false:
                question = _false_statement(term, sentence, terms, years, stated, document_text)
            if question is None:
                question = QuestionDraft(
                    type=TRUE_FALSE,
                    prompt=sentence.text,
                    answer="true",
                    explanation=f"True: the source says “{sentence.text}”",
                    chunk_id=sentence.chunk_id,
                    quote=sentence.text,
                    evidence=sentence.text,
                    concept=term.text,
                )
            used.add(sentence.order)
            want_false = question.answer == "true"
            yield question
            break


def _false_statement(
    term: Term,
    sentence: Sentence,
    terms: list[Term],
    years: list[str],
    stated: list[set[str]],
    document_text: str,
) -> QuestionDraft | None:
    match = term_pattern(term.text).search(sentence.text)
    swaps: list[tuple[re.Match[str], str]] = []
    if match:
        for other in terms:
            if other.kind != term.kind or other.key == term.key or terms_overlap(other.key, term.key):
                continue
            if term_pattern(other.text).search(sentence.text):
                continue
            swaps.append((match, other.text))
    for year_match in YEAR.finditer(sentence.text):
        swaps.extend((year_match, year) for year in years if year != year_match.group(0))
    # A swap that keeps the number ("fuels are" -> "pigments are") does not give itself away.
    swaps.sort(key=lambda swap: _plural(swap[0].group(0)) != _plural(swap[1]))
    for found, replacement in swaps[:6]:
        original = found.group(0)
        if found.start() == 0:
            replacement = replacement[:1].upper() + replacement[1:]
        elif term.kind == "word" and words(replacement)[0][1:].islower():
            replacement = replacement[:1].lower() + replacement[1:]  # "Photosynthesis" mid-sentence
        statement = f"{sentence.text[: found.start()]}{replacement}{sentence.text[found.end() :]}"
        if comparable(statement) in document_text:
            continue
        # Refuse a swap that another sentence happens to state.
        keys = set(content_keys(statement))
        if any(keys <= other for other in stated):
            continue
        return QuestionDraft(
            type=TRUE_FALSE,
            prompt=statement,
            answer="false",
            explanation=f"False: the source says “{sentence.text}”",
            chunk_id=sentence.chunk_id,
            quote=sentence.text,
            evidence=original,
            concept=term.text,
        )
    return None


def _plural(text: str) -> bool:
    last = text.split()[-1] if text.split() else ""
    return last.endswith("s") and not last.endswith("ss") and last.islower()


def _distractors(answer: str, quote: str, pool: list[str], count: int, *, similar: bool) -> list[str]:
    chosen: list[str] = []
    taken = {comparable(answer)}
    if similar:
        answer_words = {w.casefold() for w in words(answer)}
        pool = sorted(pool, key=lambda option: -len(answer_words & {w.casefold() for w in words(option)}))
    for option in pool:
        key = comparable(option)
        if not key or key in taken or distractor_supported(option, quote):
            continue
        if any(terms_overlap(key, other) for other in taken):
            continue
        chosen.append(option)
        taken.add(key)
        if len(chosen) == count:
            break
    return chosen


def choice_questions(
    terms: list[Term], sentences: list[Sentence], *, difficulty: str
) -> Iterator[QuestionDraft]:
    option_count = 3 if difficulty == EASY else 4
    defined = [t for t in terms if t.definition and t.sentence is not None]
    for index, term in enumerate(defined):
        quote = term.quote
        by_definition = difficulty == HARD or (difficulty != EASY and index % 2 == 1)
        if by_definition:
            pool = [t.definition for t in defined if t.key != term.key]
            wrong = _distractors(term.definition, quote, pool, option_count - 1, similar=True)
            if len(wrong) == option_count - 1 and comparable(term.definition) in comparable(quote):
                options = _stable_order([term.definition, *wrong], term.key)
                yield QuestionDraft(
                    type=MULTIPLE_CHOICE,
                    prompt=f"Which description fits “{term.text}”?",
                    options=options,
                    answer=term.definition,
                    explanation=f"The source says: “{quote}”",
                    chunk_id=term.chunk_id,
                    quote=quote,
                    evidence=term.definition,
                    concept=term.text,
                )
                continue
        same_kind = [t.text for t in terms if t.kind == term.kind and t.key != term.key]
        pool = same_kind + [t.text for t in terms if t.kind != term.kind and t.kind != "number"]
        wrong = _distractors(term.text, quote, pool, option_count - 1, similar=difficulty == HARD)
        if len(wrong) < option_count - 1:
            continue
        yield QuestionDraft(
            type=MULTIPLE_CHOICE,
            prompt=f"Which term matches this description: “{_masked(term.definition, term)}”?",
            options=_stable_order([term.text, *wrong], term.key),
            answer=term.text,
            accepted=list(term.aliases),
            explanation=f"The source says: “{quote}”",
            chunk_id=term.chunk_id,
            quote=quote,
            evidence=term.text,
            concept=term.text,
        )


def short_answer_questions(terms: list[Term]) -> Iterator[QuestionDraft]:
    for term in terms:
        if not term.definition or term.sentence is None:
            continue
        definition = _masked(term.definition, term)
        first = words(definition)[0].casefold() if words(definition) else ""
        if first in ("the", "a", "an") or definition[:1].islower():
            prompt = f"What is the name for {definition[:1].lower()}{definition[1:]}?"
        else:
            prompt = f"What is the name for this: “{definition}”?"
        yield QuestionDraft(
            type=SHORT_ANSWER,
            prompt=prompt,
            answer=term.text,
            accepted=list(term.aliases),
            explanation=f"The source says: “{term.quote}”",
            chunk_id=term.chunk_id,
            quote=term.quote,
            evidence=term.text,
            concept=term.text,
        )


def _masked(text: str, term: Term) -> str:
    """The definition without the term itself in it (the question would answer itself)."""
    for name in [term.text, *term.aliases]:
        text = term_pattern(name).sub("…", text)
    return text
