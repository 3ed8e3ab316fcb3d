"""Must hold: with the local provider each sample document yields an analysis, a lesson and a
10-question quiz whose every answer appears in its quoted source."""

import pytest

from tests.tutor.content_sources import SAMPLES, session_with_sample
from tutor.content.drafts import FILL_IN_BLANK, MULTIPLE_CHOICE, QUESTION_TYPES, SHORT_ANSWER, TRUE_FALSE
from tutor.content.services import analysis_generate, lesson_generate, quiz_generate
from tutor.content.text import comparable, contains_quote, plain_text

pytestmark = pytest.mark.django_db


def in_quote(text: str, quote: str) -> bool:
    return bool(comparable(text)) and comparable(text) in comparable(quote)


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.AI_PROVIDER = "local"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_yields_grounded_analysis_lesson_and_quiz(name):
    session = session_with_sample(name)
    learner = session.learner
    document_text = comparable(" ".join(plain_text(chunk.text) for chunk in session.chunks.all()))

    analysis = analysis_generate(session=session, learner=learner)
    concepts = list(analysis.concepts.select_related("chunk"))
    assert analysis.summary
    assert len(concepts) >= 5
    for concept in concepts:
        assert contains_quote(concept.chunk.text, concept.quote), concept.term
        assert in_quote(concept.term, concept.quote), concept.term

    lesson = lesson_generate(session=session, learner=learner)
    sections = list(lesson.sections.prefetch_related("chunks"))
    assert len(sections) >= 2
    for section in sections:
        assert section.objectives
        assert section.explanation
        assert list(section.chunks.all()), section.title

    quiz = quiz_generate(
        session=session,
        learner=learner,
        num_questions=10,
        difficulty="medium",
        question_types=list(QUESTION_TYPES),
    )
    questions = list(quiz.questions.select_related("chunk"))
    assert (quiz.requested, quiz.delivered, len(questions), quiz.message) == (10, 10, 10, "")
    assert {q.type for q in questions} == set(QUESTION_TYPES)
    for question in questions:
        assert contains_quote(question.chunk.text, question.quote), question.prompt
        assert question.explanation
        if question.type in (MULTIPLE_CHOICE, SHORT_ANSWER, FILL_IN_BLANK):
            assert in_quote(question.answer, question.quote), question.prompt
        elif question.type == TRUE_FALSE and question.answer == "true":
            assert in_quote(question.prompt, question.quote), question.prompt
        else:
            assert in_quote(question.evidence, question.quote), question.prompt
            assert comparable(question.prompt) not in document_text, question.prompt
