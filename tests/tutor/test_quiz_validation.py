"""What validation refuses before a learner sees a question, and how answers are scored."""

import pytest

from tutor.content.drafts import QuestionDraft, SourceChunk
from tutor.content.models import Question
from tutor.content.quiz import questions_pick
from tutor.content.services import answer_is_correct
from tutor.content.validation import prompt_key, questions_validate

TEXT = (
    "Photosynthesis\nThe fluid surrounding the thylakoids is called the\nstroma. Chlorophyll, the green "
    "pigment that absorbs light, is embedded in the thylakoid membranes. ATP synthase makes ATP."
)
CHUNK = SourceChunk(id=1, text=TEXT)
QUOTE = "Chlorophyll, the green pigment that absorbs light, is embedded in the thylakoid membranes."


def choice(**changes) -> QuestionDraft:
    fields = {
        "type": "multiple_choice",
        "prompt": "Which term matches this description: “the green pigment that absorbs light”?",
        "options": ["Chlorophyll", "stroma", "ATP", "glucose"],
        "answer": "Chlorophyll",
        "explanation": "The source says so.",
        "chunk_id": 1,
        "quote": QUOTE,
        "evidence": "Chlorophyll",
    }
    return QuestionDraft(**{**fields, **changes})


def check(*questions, flagged=frozenset()):
    return questions_validate(questions, chunks={1: CHUNK}, document_text=TEXT, flagged_prompts=set(flagged))


def test_a_grounded_question_passes():
    kept, rejected = check(choice())

    assert len(kept) == 1
    assert not rejected


def test_a_quote_is_found_across_the_documents_line_breaks():
    kept, _ = check(
        choice(
            quote="The fluid surrounding the thylakoids is called the stroma.",
            answer="stroma",
            options=["stroma", "ATP", "glucose"],
            prompt="What is the fluid around thylakoids called?",
        )
    )

    assert len(kept) == 1


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"options": ["Chlorophyll", "Chlorophyll ", "ATP"]}, "duplicate_options"),
        ({"options": ["stroma", "ATP", "glucose"]}, "not_one_correct_option"),
        ({"options": ["Chlorophyll", "thylakoid membranes", "ATP"]}, "distractor_supported"),
        ({"options": ["Chlorophyll"]}, "too_few_options"),
        ({"quote": "Chlorophyll is blue."}, "quote_not_in_source"),
        ({"chunk_id": 99}, "unknown_source"),
        ({"answer": "glucose", "options": ["Chlorophyll", "glucose", "ATP"]}, "answer_not_supported"),
        ({"type": "essay"}, "unknown_type"),
        (
            {"type": "fill_in_blank", "prompt": "_____, the green pigment, is Chlorophyll.", "options": []},
            "answer_in_prompt",
        ),
        ({"type": "short_answer", "prompt": "Which pigment?", "answer": "", "options": []}, "incomplete"),
    ],
)
def test_it_refuses_ungrounded_or_unfair_questions(changes, reason):
    kept, rejected = check(choice(**changes))

    assert kept == []
    assert rejected == {reason: 1}


def test_a_false_statement_must_not_be_stated_by_the_source():
    stated = choice(type="true_false", prompt=QUOTE, answer="false", options=[], evidence="Chlorophyll")
    refuted = choice(
        type="true_false",
        prompt="ATP, the green pigment that absorbs light, is embedded in the thylakoid membranes.",
        answer="false",
        options=[],
        evidence="Chlorophyll",
    )

    kept, rejected = check(stated, refuted)

    assert kept == [refuted]
    assert rejected == {"false_statement_supported": 1}


def test_duplicates_and_flagged_prompts_are_left_out():
    flagged = choice(prompt="Which pigment absorbs light?")

    kept, rejected = check(
        choice(),
        choice(options=["glucose", "ATP", "Chlorophyll"]),
        flagged,
        flagged={prompt_key("which pigment absorbs LIGHT")},
    )

    assert len(kept) == 1
    assert rejected == {"duplicate_question": 1, "flagged": 1}


def test_picking_balances_types_and_never_pads():
    questions = [choice(prompt=f"Q{i}", concept=f"c{i}") for i in range(3)] + [
        choice(
            type="true_false",
            prompt="ATP synthase makes ATP.",
            quote="ATP synthase makes ATP.",
            answer="true",
            options=[],
            concept="c9",
        )
    ]

    picked = questions_pick(questions, num_questions=10, question_types=["multiple_choice", "true_false"])

    assert [q.type for q in picked] == ["multiple_choice", "true_false", "multiple_choice", "multiple_choice"]


@pytest.mark.parametrize(
    ("kind", "answer", "accepted", "given", "correct"),
    [
        ("short_answer", "standard deviation", [], "  Standard   Deviation. ", True),
        ("short_answer", "standard deviation", [], "the standard deviations", True),
        ("short_answer", "interquartile range", ["IQR"], "iqr", True),
        ("short_answer", "median", [], "mean", False),
        ("fill_in_blank", "thylakoids", [], "Thylakoid", True),
        ("fill_in_blank", "thylakoids", [], "", False),
        ("true_false", "true", [], "True", True),
        ("true_false", "false", [], "no", True),
        ("true_false", "false", [], "true", False),
        ("true_false", "true", [], "maybe", False),
        ("multiple_choice", "Chlorophyll", [], "chlorophyll", True),
        ("multiple_choice", "Chlorophyll", [], "Chloro", False),
        ("multiple_choice", "Chlorophyll", [], None, False),
    ],
)
def test_answers_are_scored_ignoring_case_spacing_and_punctuation(kind, answer, accepted, given, correct):
    question = Question(type=kind, answer=answer, accepted=accepted)

    assert answer_is_correct(question, given) is correct
