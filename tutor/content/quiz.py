"""A quiz from a session's documents: candidates from rules or a model, validated, balanced.

Candidates are validated (`validation`) and then picked round-robin over the requested types,
each concept and quote used once while others remain. When fewer questions pass than were asked
for, the quiz has fewer: it is never padded.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import islice

from chatplatform.ai.base import ChatProvider
from tutor.content import llm
from tutor.content.drafts import (
    BLANK,
    DIFFICULTIES,
    FILL_IN_BLANK,
    HARD,
    MULTIPLE_CHOICE,
    QUESTION_TYPES,
    SHORT_ANSWER,
    TRUE_FALSE,
    QuestionDraft,
    QuizDraft,
    SourceChunk,
)
from tutor.content.quiz_local import (
    choice_questions,
    cloze_questions,
    short_answer_questions,
    true_false_questions,
)
from tutor.content.terms import key_terms, term_key, terms_by_focus
from tutor.content.text import comparable, document_sentences, plain_text
from tutor.content.validation import questions_validate

_BLANKS = re.compile(r"_{3,}")


def quiz_local(
    chunks: list[SourceChunk],
    *,
    num_questions: int,
    difficulty: str,
    question_types: list[str],
    focus: list[str] | tuple[str, ...] = (),
    flagged_prompts: set[str] = frozenset(),
) -> QuizDraft:
    sentences = document_sentences(chunks)
    terms = key_terms(sentences, limit=60)
    if difficulty == HARD:
        # Rarer terms first: the obvious ones are the easy questions.
        terms = sorted(terms, key=lambda t: (t.count, -t.score))
    terms = terms_by_focus(terms, list(focus))
    document_text = " ".join(plain_text(chunk.text) for chunk in chunks)
    document_key = comparable(document_text)
    limit = num_questions * 2 + 4
    builders = {
        FILL_IN_BLANK: lambda: cloze_questions(terms, sentences),
        TRUE_FALSE: lambda: true_false_questions(terms, sentences, document_key),
        MULTIPLE_CHOICE: lambda: choice_questions(terms, sentences, difficulty=difficulty),
        SHORT_ANSWER: lambda: short_answer_questions(terms),
    }
    candidates = [question for kind in question_types for question in islice(builders[kind](), limit)]
    return quiz_assemble(
        candidates,
        chunks=chunks,
        document_text=document_text,
        num_questions=num_questions,
        question_types=question_types,
        flagged_prompts=flagged_prompts,
        focus=focus,
    )


def quiz_assemble(
    candidates: list[QuestionDraft],
    *,
    chunks: list[SourceChunk],
    document_text: str,
    num_questions: int,
    question_types: list[str],
    flagged_prompts: set[str],
    focus: list[str] | tuple[str, ...] = (),
) -> QuizDraft:
    """Validate the candidates and pick up to `num_questions` of them."""
    valid, rejected = questions_validate(
        candidates,
        chunks={chunk.id: chunk for chunk in chunks},
        document_text=document_text,
        flagged_prompts=flagged_prompts,
    )
    picked = questions_pick(valid, num_questions=num_questions, question_types=question_types, focus=focus)
    return QuizDraft(questions=picked, requested=num_questions, rejected=dict(rejected))


def questions_pick(
    questions: list[QuestionDraft],
    *,
    num_questions: int,
    question_types: list[str],
    focus: list[str] | tuple[str, ...] = (),
) -> list[QuestionDraft]:
    """Round-robin over the types; a concept or quote is reused only when nothing else is left."""
    by_type = {kind: [q for q in questions if q.type == kind] for kind in question_types}
    missed = {term_key(item) for item in focus}
    for kind in by_type:
        by_type[kind].sort(key=lambda q: term_key(q.concept) not in missed)  # stable: keeps order
    picked: list[QuestionDraft] = []
    for strict_concepts, strict_quotes in ((True, True), (False, True), (False, False)):
        progress = True
        while len(picked) < num_questions and progress:
            progress = False
            for kind in question_types:
                if len(picked) >= num_questions:
                    break
                concepts = Counter(term_key(q.concept) for q in picked if q.concept)
                quotes = {comparable(q.quote) for q in picked}
                pool = by_type[kind]
                if kind == TRUE_FALSE:
                    # Alternate true and false rather than follow the candidates' order.
                    last = next((q.answer for q in reversed(picked) if q.type == TRUE_FALSE), "true")
                    pool = sorted(pool, key=lambda q: (term_key(q.concept) not in missed, q.answer == last))
                for question in pool:
                    if question in picked:
                        continue
                    if strict_concepts and question.concept and concepts[term_key(question.concept)]:
                        continue
                    if strict_quotes and comparable(question.quote) in quotes:
                        continue
                    picked.append(question)
                    progress = True
                    break
    return picked


QUIZ_SYSTEM = (
    "You are a tutor writing a quiz from a learner's documents. Reply with one JSON object: "
    '{"questions": [{"type": "multiple_choice" | "true_false" | "short_answer" | "fill_in_blank", '
    '"prompt": "...", "options": ["..."] (multiple_choice only, exactly one correct), '
    '"answer": "..." ("true" or "false" for true_false; the exact option text for '
    'multiple_choice; a word or short phrase from the quote otherwise), "explanation": "...", '
    '"source": "C1", "quote": "...", "evidence": "<the words of the quote that prove the answer>"}]}. '
    "A fill_in_blank prompt contains _____ where the answer goes. Wrong options must be plausible "
    "but not supported by the quote. " + llm.GROUNDING_RULES
)


def quiz_prompt(
    *, num_questions: int, difficulty: str, question_types: list[str], focus, avoid: list[str]
) -> str:
    lines = [
        f"Write {num_questions} {difficulty} questions of these types: {', '.join(question_types)}.",
    ]
    if focus:
        lines.append(f"Favour these concepts, which the learner missed: {', '.join(focus)}.")
    if avoid:
        lines.append("Do not ask these again: " + " | ".join(avoid[:20]))
    return "\n".join(lines)


async def quiz_llm_candidates(
    provider: ChatProvider,
    chunks: list[SourceChunk],
    *,
    num_questions: int,
    difficulty: str,
    question_types: list[str],
    focus: list[str] | tuple[str, ...] = (),
    avoid: list[str] | None = None,
) -> list[QuestionDraft]:
    """The model's questions as drafts (unvalidated). A few more than needed are asked for, since
    validation refuses some."""
    listing, labels = llm.sources_listing(chunks, focus=focus)
    asked = min(50, num_questions + max(2, num_questions // 3))
    instructions = quiz_prompt(
        num_questions=asked,
        difficulty=difficulty,
        question_types=question_types,
        focus=focus,
        avoid=avoid or [],
    )
    result = await llm.ask(provider, system=QUIZ_SYSTEM, user=f"{instructions}\n\n{listing}")
    drafts: list[QuestionDraft] = []
    for item in llm.items(result, "questions"):
        kind = llm.text_field(item, "type", limit=40)
        chunk = llm.source_chunk(item, labels)
        if kind not in question_types or chunk is None:
            continue
        answer = item.get("answer")
        if kind == TRUE_FALSE:
            answer = _true_false(answer)
        answer = answer if isinstance(answer, str) else ""
        options = llm.list_field(item, "options")[:8] if kind == MULTIPLE_CHOICE else []
        if options and re.fullmatch(r"[A-Ha-h]", answer.strip()) and answer.strip() not in options:
            # "B" for the second option, as models sometimes answer.
            index = ord(answer.strip().upper()) - ord("A")
            answer = options[index] if index < len(options) else answer
        drafts.append(
            QuestionDraft(
                type=kind,
                prompt=_BLANKS.sub(BLANK, llm.text_field(item, "prompt")),
                options=options,
                answer=answer.strip()[:500],
                explanation=llm.text_field(item, "explanation"),
                chunk_id=chunk.id,
                quote=llm.text_field(item, "quote"),
                evidence=llm.text_field(item, "evidence", limit=500),
                concept=llm.text_field(item, "concept", limit=200),
            )
        )
    return drafts


def _true_false(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value or "").strip().casefold()
    return text if text in ("true", "false") else ""


def quiz_parameters_check(*, num_questions: int, difficulty: str, question_types: list[str]) -> None:
    """Guards for callers that skip the API's own checks (the API gives stable codes first)."""
    if not 1 <= num_questions <= 50 or difficulty not in DIFFICULTIES:
        raise ValueError("num_questions must be 1-50 and difficulty easy, medium or hard.")
    if not question_types or any(kind not in QUESTION_TYPES for kind in question_types):
        raise ValueError("question_types must be a non-empty subset of the question types.")
