"""Writes of generated content, and the scoring rule of a learner's answer.

Each `*_generate` reads the session's ready passages, has them written (`generation`) inside a
telemetry context of the learner and feature, and stores the result with its interaction log in
one transaction: a failure leaves nothing half-written.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework import status

from chatplatform import telemetry
from chatplatform.errors import ApplicationError
from tutor.content import generation
from tutor.content.drafts import FILL_IN_BLANK, MULTIPLE_CHOICE, SHORT_ANSWER, TRUE_FALSE, SourceChunk
from tutor.content.models import Analysis, Concept, Lesson, LessonSection, Question, Quiz
from tutor.content.selectors import flagged_prompt_keys, flagged_prompts
from tutor.content.text import comparable, word_key
from tutor.models import Chunk, StudySession
from tutor.selectors import session_chunks
from tutor.services import log_interaction

NO_READY_DOCUMENTS = "no_ready_documents"
QUIZ_NOT_GENERATED = "quiz_not_generated"


def session_sources(session: StudySession) -> list[SourceChunk]:
    """The session's ready passages in reading order; refuses a session without any."""
    rows = session_chunks(session).values_list("pk", "text", "page")
    chunks = [SourceChunk(id=pk, text=text, page=page) for pk, text, page in rows]
    if not chunks:
        raise ApplicationError(
            NO_READY_DOCUMENTS,
            "The session has no processed document yet; upload one and wait until it is ready.",
            status_code=status.HTTP_409_CONFLICT,
        )
    return chunks


def missed_concepts(session: StudySession) -> list[str]:
    """The concepts the learner's latest summary missed (written by the learning events)."""
    missed = (session.context or {}).get("missed_concepts", [])
    return (
        [str(item)[:200] for item in missed if isinstance(item, str) and item.strip()][:20]
        if isinstance(missed, list)
        else []
    )


def _existing_chunks(session: StudySession, ids) -> set[int]:
    """The ids still there: a document deleted while content was generated takes its chunks."""
    return set(Chunk.objects.filter(session=session, pk__in=set(ids)).values_list("pk", flat=True))


def _context(learner: AbstractBaseUser, feature: str):
    return telemetry.context(tenant_type="learner", tenant_id=str(learner.pk), feature=feature)


def analysis_generate(*, session: StudySession, learner: AbstractBaseUser) -> Analysis:
    chunks = session_sources(session)
    with _context(learner, "tutor_analysis"):
        generated = generation.analysis_draft(chunks, focus=missed_concepts(session))
    draft = generated.draft
    known = _existing_chunks(session, (concept.chunk_id for concept in draft.concepts))
    with transaction.atomic():
        analysis = Analysis.objects.create(
            session=session, summary=draft.summary, provider=generated.provider, model=generated.model
        )
        Concept.objects.bulk_create(
            Concept(
                analysis=analysis,
                position=position,
                term=concept.term[:200],
                definition=concept.definition,
                chunk_id=concept.chunk_id if concept.chunk_id in known else None,
                quote=concept.quote,
                aliases=concept.aliases,
            )
            for position, concept in enumerate(draft.concepts, start=1)
        )
        log_interaction(
            learner,
            "analysis_generated",
            session=session,
            analysis=analysis.pk,
            concepts=len(draft.concepts),
            provider=generated.provider,
        )
    return analysis


def lesson_generate(*, session: StudySession, learner: AbstractBaseUser) -> Lesson:
    chunks = session_sources(session)
    with _context(learner, "tutor_lesson"):
        generated = generation.lesson_draft(chunks, focus=missed_concepts(session))
    draft = generated.draft
    known = _existing_chunks(session, (i for section in draft.sections for i in section.chunk_ids))
    with transaction.atomic():
        lesson = Lesson.objects.create(
            session=session,
            title=draft.title[:200],
            focus=draft.focus,
            provider=generated.provider,
            model=generated.model,
        )
        for position, section in enumerate(draft.sections, start=1):
            row = LessonSection.objects.create(
                lesson=lesson,
                position=position,
                title=section.title[:200],
                objectives=section.objectives,
                explanation=section.explanation,
                examples=section.examples,
            )
            row.chunks.set([chunk_id for chunk_id in section.chunk_ids if chunk_id in known])
        log_interaction(
            learner,
            "lesson_generated",
            session=session,
            lesson=lesson.pk,
            sections=len(draft.sections),
            focus=draft.focus,
            provider=generated.provider,
        )
    return lesson


def quiz_generate(
    *,
    session: StudySession,
    learner: AbstractBaseUser,
    num_questions: int,
    difficulty: str,
    question_types: list[str],
) -> Quiz:
    """A new quiz of up to `num_questions` validated questions ("N of M" when fewer pass).

    Questions whose prompt equals a flagged question's of the session are left out.
    """
    chunks = session_sources(session)
    with _context(learner, "tutor_quiz"):
        generated = generation.quiz_draft(
            chunks,
            num_questions=num_questions,
            difficulty=difficulty,
            question_types=question_types,
            focus=missed_concepts(session),
            flagged_prompts=flagged_prompt_keys(session),
            avoid=flagged_prompts(session),
        )
    draft = generated.draft
    delivered = len(draft.questions)
    if not delivered:
        raise ApplicationError(
            QUIZ_NOT_GENERATED,
            "No question could be grounded in the documents; add more material or other question types.",
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    known = _existing_chunks(session, (question.chunk_id for question in draft.questions))
    message = ""
    if delivered < num_questions:
        message = (
            f"{delivered} of {num_questions} questions passed validation; the documents did not support more."
        )
    with transaction.atomic():
        quiz = Quiz.objects.create(
            session=session,
            requested=num_questions,
            delivered=delivered,
            difficulty=difficulty,
            question_types=question_types,
            message=message,
            rejected=draft.rejected,
            provider=generated.provider,
            model=generated.model,
        )
        Question.objects.bulk_create(
            Question(
                quiz=quiz,
                position=position,
                type=question.type,
                prompt=question.prompt,
                options=question.options,
                answer=question.answer[:500],
                accepted=question.accepted,
                explanation=question.explanation,
                chunk_id=question.chunk_id if question.chunk_id in known else None,
                quote=question.quote,
                evidence=question.evidence,
                concept=question.concept[:200],
            )
            for position, question in enumerate(draft.questions, start=1)
        )
        log_interaction(
            learner,
            "quiz_generated",
            session=session,
            quiz=quiz.pk,
            requested=num_questions,
            delivered=delivered,
            difficulty=difficulty,
            question_types=question_types,
            provider=generated.provider,
        )
    return quiz


# --- scoring --------------------------------------------------------------------------------

_TRUE = frozenset({"true", "t", "yes", "y", "1", "correct", "right", "sand", "sandt", "ja", "vrai"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "incorrect", "wrong", "falsk", "nej", "faux"})
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+")


def _truth(given: str) -> str:
    key = comparable(given)
    if key in _TRUE:
        return "true"
    if key in _FALSE:
        return "false"
    return ""


def _loose(text: str) -> str:
    """Case, spacing, punctuation, a leading article and plural endings ignored."""
    return " ".join(word_key(word) for word in _LEADING_ARTICLE.sub("", comparable(text)).split())


def answer_is_correct(question: Question, given: object) -> bool:
    """Whether `given` answers the question: the exact option for multiple choice, "true"/"false"
    (or yes/no, t/f, 1/0) for true/false, and for short answers and blanks the answer or an
    accepted alias, ignoring case, spacing, punctuation, a leading article and plural endings."""
    if given is None or isinstance(given, list | dict):
        return False
    text = str(given)
    if not text.strip():
        return False
    if question.type == TRUE_FALSE:
        return _truth(text) == question.answer
    if question.type == MULTIPLE_CHOICE:
        return comparable(text) == comparable(question.answer)
    if question.type in (SHORT_ANSWER, FILL_IN_BLANK):
        wanted = {_loose(candidate) for candidate in [question.answer, *(question.accepted or [])]}
        return _loose(text) in wanted
    return False
