"""Which generator writes the content: the configured AI provider, or the local rules.

With `AI_PROVIDER=openai` the language model writes it (JSON output, re-asked once on invalid
JSON); if the provider fails, or gives nothing grounded, the local rules write it instead, so a
learner always gets content. The local rules run inside a telemetry span of their own, so the
tutor's use shows in telemetry whichever way it went. Callers open the `telemetry.context`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from asgiref.sync import async_to_sync
from django.conf import settings

from chatplatform import telemetry
from chatplatform.ai import get_chat_provider
from chatplatform.ai.base import ChatProvider, ProviderError
from tutor.content.analysis import analysis_llm, analysis_local
from tutor.content.drafts import AnalysisDraft, LessonDraft, QuizDraft, SourceChunk
from tutor.content.lesson import lesson_llm, lesson_local
from tutor.content.quiz import quiz_assemble, quiz_llm_candidates, quiz_local
from tutor.content.text import plain_text

logger = logging.getLogger(__name__)

LOCAL_PROVIDER = "local"
LOCAL_MODEL = "rules"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Generated(Generic[T]):
    draft: T
    provider: str
    model: str


def _generate(
    what: str, remote: Callable[[ChatProvider], Awaitable[T | None]], local: Callable[[], T], *, usable=bool
) -> Generated[T]:
    provider = get_chat_provider()
    if provider.composes_text:
        try:
            draft = async_to_sync(_awaited)(remote, provider)
        except ProviderError as exc:
            logger.warning(
                "The %s provider could not write the %s (%s); using the local rules",
                provider.name,
                what,
                exc.code,
            )
        else:
            if draft is not None and usable(draft):
                return Generated(draft, provider.name, settings.OPENAI_CHAT_MODEL)
            logger.info(
                "The %s provider's %s had nothing grounded; using the local rules", provider.name, what
            )
    with telemetry.span(operation="json", provider=LOCAL_PROVIDER, model=LOCAL_MODEL):
        return Generated(local(), LOCAL_PROVIDER, LOCAL_MODEL)


async def _awaited(remote: Callable[[ChatProvider], Awaitable[T | None]], provider: ChatProvider) -> T | None:
    return await remote(provider)


def analysis_draft(chunks: list[SourceChunk], *, focus: list[str]) -> Generated[AnalysisDraft]:
    return _generate(
        "analysis",
        lambda provider: analysis_llm(provider, chunks, focus=focus),
        lambda: analysis_local(chunks, focus=focus),
    )


def lesson_draft(chunks: list[SourceChunk], *, focus: list[str]) -> Generated[LessonDraft]:
    return _generate(
        "lesson",
        lambda provider: lesson_llm(provider, chunks, focus=focus),
        lambda: lesson_local(chunks, focus=focus),
    )


def quiz_draft(
    chunks: list[SourceChunk],
    *,
    num_questions: int,
    difficulty: str,
    question_types: list[str],
    focus: list[str],
    flagged_prompts: set[str],
    avoid: list[str],
) -> Generated[QuizDraft]:
    async def remote(provider: ChatProvider) -> QuizDraft:
        candidates = await quiz_llm_candidates(
            provider,
            chunks,
            num_questions=num_questions,
            difficulty=difficulty,
            question_types=question_types,
            focus=focus,
            avoid=avoid,
        )
        return quiz_assemble(
            candidates,
            chunks=chunks,
            document_text=" ".join(plain_text(chunk.text) for chunk in chunks),
            num_questions=num_questions,
            question_types=question_types,
            flagged_prompts=flagged_prompts,
            focus=focus,
        )

    def local() -> QuizDraft:
        return quiz_local(
            chunks,
            num_questions=num_questions,
            difficulty=difficulty,
            question_types=question_types,
            focus=focus,
            flagged_prompts=flagged_prompts,
        )

    return _generate("quiz", remote, local, usable=lambda quiz: bool(quiz.questions))
