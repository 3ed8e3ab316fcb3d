"""The checks every question passes before a learner sees it, whoever wrote it.

A question is kept only when its quote is really in the chunk it names and supports its answer
(the answer's key words are in the quote), a multiple-choice question has exactly one correct
option, no duplicate options and no distractor that the quote supports as well, and it repeats
neither another question of the quiz nor a question flagged in the session. Rejections are
counted by reason, so that a short quiz can say why it is short.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tutor.content.drafts import (
    BLANK,
    FILL_IN_BLANK,
    MULTIPLE_CHOICE,
    QUESTION_TYPES,
    SHORT_ANSWER,
    TRUE_FALSE,
    QuestionDraft,
    SourceChunk,
)
from tutor.content.text import comparable, contains_quote, content_keys, supported_fraction

# Share of a text's content words the quote must contain to support it.
SUPPORTED = 0.8


def prompt_key(prompt: str) -> str:
    """The form in which two prompts are "the same question" (flagged ones included)."""
    return comparable(prompt)


def supports(quote: str, claim: str) -> bool:
    """Whether the quote states `claim` (literally, or with nearly all its key words)."""
    if comparable(claim) and comparable(claim) in comparable(quote):
        return True
    return bool(content_keys(claim)) and supported_fraction(claim, quote) >= SUPPORTED


def states(source: str, claim: str) -> bool:
    """Whether `source` says `claim` word for word, stopwords aside (word order counts: "A pulls
    B" is not "B pulls A")."""
    keys, have = content_keys(claim), content_keys(source)
    if not keys:
        return False
    size = len(keys)
    return any(have[start : start + size] == keys for start in range(len(have) - size + 1))


def distractor_supported(option: str, quote: str) -> bool:
    """A wrong option that the quote backs up as much as the answer: the question is unfair."""
    return supports(quote, option)


def question_problem(question: QuestionDraft, chunk: SourceChunk | None, document_key: str) -> str:
    """Why the question cannot be delivered, or "" when it can; `document_key` is the
    `comparable` form of all the documents' text."""
    if question.type not in QUESTION_TYPES:
        return "unknown_type"
    if not question.prompt.strip() or not question.answer.strip():
        return "incomplete"
    if chunk is None:
        return "unknown_source"
    if not contains_quote(chunk.text, question.quote):
        return "quote_not_in_source"
    quote = question.quote
    if question.type == TRUE_FALSE:
        return _true_false_problem(question, quote, document_key)
    if not supports(quote, question.answer):
        return "answer_not_supported"
    if question.type in (SHORT_ANSWER, FILL_IN_BLANK):
        prompt = f" {comparable(question.prompt.replace(BLANK, ' '))} "
        # An alias in the prompt gives the answer away as much as the answer does.
        if any(
            f" {comparable(answer)} " in prompt for answer in [question.answer, *question.accepted] if answer
        ):
            return "answer_in_prompt"
    if question.type == FILL_IN_BLANK:
        if BLANK not in question.prompt:
            return "no_blank"
        if supported_fraction(question.prompt.replace(BLANK, question.answer), quote) < SUPPORTED:
            return "answer_not_supported"
    if question.type == MULTIPLE_CHOICE:
        return _choice_problem(question, quote)
    return ""


def _true_false_problem(question: QuestionDraft, quote: str, document_key: str) -> str:
    answer = question.answer
    if answer not in ("true", "false"):
        return "incomplete"
    if answer == "true":
        return "" if supported_fraction(question.prompt, quote) >= 0.9 else "answer_not_supported"
    # A false statement must be refuted by the quote, and stated nowhere in the documents.
    if question.evidence and not supports(quote, question.evidence):
        return "answer_not_supported"
    if states(quote, question.prompt):
        return "false_statement_supported"
    if comparable(question.prompt) in document_key:
        return "false_statement_supported"
    return ""


def _choice_problem(question: QuestionDraft, quote: str) -> str:
    options = question.options
    if len(options) < 2 or not all(isinstance(option, str) and option.strip() for option in options):
        return "too_few_options"
    keys = [comparable(option) for option in options]
    if len(set(keys)) != len(keys):
        return "duplicate_options"
    if keys.count(comparable(question.answer)) != 1:
        return "not_one_correct_option"
    answer_key = comparable(question.answer)
    if any(
        distractor_supported(option, quote)
        for option, key in zip(options, keys, strict=True)
        if key != answer_key
    ):
        return "distractor_supported"
    return ""


def questions_validate(
    questions: Iterable[QuestionDraft],
    *,
    chunks: dict[int, SourceChunk],
    document_text: str,
    flagged_prompts: set[str] = frozenset(),
) -> tuple[list[QuestionDraft], Counter]:
    """The deliverable questions in their order, and how many were refused for each reason."""
    kept: list[QuestionDraft] = []
    rejected: Counter = Counter()
    seen: set[str] = set()
    document_key = comparable(document_text)
    for question in questions:
        key = prompt_key(question.prompt)
        if key in flagged_prompts:
            rejected["flagged"] += 1
            continue
        if key in seen:
            rejected["duplicate_question"] += 1
            continue
        problem = question_problem(question, chunks.get(question.chunk_id), document_key)
        if problem:
            rejected[problem] += 1
            continue
        seen.add(key)
        kept.append(question)
    return kept, rejected
