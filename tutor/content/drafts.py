"""The generation core's inputs and outputs: plain dataclasses, no models.

Generators (local rules or an LLM) produce drafts; `services` turns them into rows. Every piece of
generated content names the chunk it comes from and quotes it, so that the learner can check it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MULTIPLE_CHOICE = "multiple_choice"
TRUE_FALSE = "true_false"
SHORT_ANSWER = "short_answer"
FILL_IN_BLANK = "fill_in_blank"
QUESTION_TYPES = (MULTIPLE_CHOICE, TRUE_FALSE, SHORT_ANSWER, FILL_IN_BLANK)

EASY, MEDIUM, HARD = "easy", "medium", "hard"
DIFFICULTIES = (EASY, MEDIUM, HARD)

BLANK = "_____"


@dataclass(frozen=True, slots=True)
class SourceChunk:
    """A passage of a ready document: what every generator reads."""

    id: int
    text: str
    page: int | None = None


@dataclass(slots=True)
class ConceptDraft:
    term: str
    definition: str
    chunk_id: int
    quote: str
    aliases: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AnalysisDraft:
    summary: str
    concepts: list[ConceptDraft]


@dataclass(slots=True)
class SectionDraft:
    title: str
    objectives: list[str]
    explanation: str
    examples: list[str]
    chunk_ids: list[int]


@dataclass(slots=True)
class LessonDraft:
    title: str
    sections: list[SectionDraft]
    focus: list[str] = field(default_factory=list)  # the missed concepts the lesson leans on


@dataclass(slots=True)
class QuestionDraft:
    """One question; `evidence` is the part of `quote` that proves the answer (for a true/false
    question: the true statement's key words, or the term a false one swapped out)."""

    type: str
    prompt: str
    answer: str
    explanation: str
    chunk_id: int
    quote: str
    evidence: str
    options: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    concept: str = ""


@dataclass(slots=True)
class QuizDraft:
    questions: list[QuestionDraft]
    requested: int
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> how many questions
