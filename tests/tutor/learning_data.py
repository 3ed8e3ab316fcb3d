"""Quizzes and analyses written straight to the database, for the learning-events tests: what
the generator would make, without running it."""

from tests.tutor.factories import StudySessionFactory
from tutor.content.models import Analysis, Concept, Question, Quiz

QUESTIONS = [
    {
        "type": "multiple_choice",
        "prompt": "Which pigment absorbs light in the thylakoid membranes?",
        "options": ["Chlorophyll", "Glucose", "Starch", "Oxygen"],
        "answer": "Chlorophyll",
        "explanation": "Chlorophyll is the green pigment embedded in the thylakoid membranes.",
    },
    {
        "type": "true_false",
        "prompt": "The Calvin cycle releases oxygen.",
        "options": [],
        "answer": "false",
        "explanation": "Oxygen comes from splitting water in the light-dependent reactions.",
    },
    {
        "type": "fill_in_blank",
        "prompt": "Stacks of thylakoids are called _____.",
        "options": [],
        "answer": "grana",
        "explanation": "Thylakoids are arranged in piles known as grana.",
    },
]

CONCEPTS = [
    ("Chlorophyll", "The green pigment that absorbs light energy in plants."),
    ("Calvin cycle", "Reactions that fix carbon dioxide into sugar using ATP and NADPH."),
    ("Stomata", "Small pores in leaves through which gases are exchanged."),
]


def quiz_make(session=None, questions=QUESTIONS) -> Quiz:
    session = session or StudySessionFactory()
    quiz = Quiz.objects.create(
        session=session,
        requested=len(questions),
        delivered=len(questions),
        difficulty="medium",
        question_types=sorted({q["type"] for q in questions}),
        provider="local",
    )
    for position, question in enumerate(questions, start=1):
        Question.objects.create(quiz=quiz, position=position, quote="From the notes.", **question)
    return quiz


def analysis_make(session=None, concepts=CONCEPTS) -> Analysis:
    session = session or StudySessionFactory()
    analysis = Analysis.objects.create(session=session, summary="Photosynthesis in brief.", provider="local")
    for position, (term, definition) in enumerate(concepts, start=1):
        Concept.objects.create(
            analysis=analysis, position=position, term=term, definition=definition, quote=definition
        )
    return analysis


def answers_for(quiz: Quiz, *given: str) -> list[dict]:
    """The answers in question order; "" leaves the question out."""
    return [
        {"question": question.pk, "given": text}
        for question, text in zip(quiz.questions.order_by("position"), given, strict=False)
        if text != ""
    ]
