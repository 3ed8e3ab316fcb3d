"""Reads of generated content: the latest of each kind for a session, and flagged prompts."""

from __future__ import annotations

from django.db.models import Prefetch

from tutor.content.models import Analysis, Concept, Lesson, LessonSection, Question, Quiz
from tutor.content.validation import prompt_key
from tutor.models import StudySession


def analysis_latest(session: StudySession) -> Analysis | None:
    concepts = Concept.objects.select_related("chunk__document")
    return session.analyses.prefetch_related(Prefetch("concepts", queryset=concepts)).first()


def lesson_latest(session: StudySession) -> Lesson | None:
    sections = LessonSection.objects.prefetch_related("chunks__document")
    return session.lessons.prefetch_related(Prefetch("sections", queryset=sections)).first()


def quiz_latest(session: StudySession) -> Quiz | None:
    questions = Question.objects.select_related("chunk__document")
    return session.quizzes.prefetch_related(Prefetch("questions", queryset=questions)).first()


def flagged_prompts(session: StudySession) -> list[str]:
    """Prompts of the session's flagged questions (item statistics flag them)."""
    return list(
        Question.objects.filter(quiz__session=session, flagged=True)
        .values_list("prompt", flat=True)
        .distinct()
    )


def flagged_prompt_keys(session: StudySession) -> set[str]:
    return {prompt_key(prompt) for prompt in flagged_prompts(session)}
