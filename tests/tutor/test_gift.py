"""Quiz exports: GIFT that Moodle's grammar accepts (special characters escaped) and Moodle XML."""

from xml.etree import ElementTree

import pytest

from tests.tutor.content_sources import session_with_sample
from tests.tutor.factories import StudySessionFactory, learner_client
from tests.tutor.gift_grammar import GiftSyntaxError, parse
from tutor.content.exports import gift_escape, quiz_gift
from tutor.content.models import Question, Quiz
from tutor.models import InteractionLog

pytestmark = pytest.mark.django_db

NASTY = r"Is {x} = 1 ~ 2 # 3: a\b?"


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.AI_PROVIDER = "local"


def quiz_with_nasty_text() -> Quiz:
    session = StudySessionFactory()
    quiz = Quiz.objects.create(
        session=session, requested=4, delivered=4, difficulty="medium", question_types=[], provider="local"
    )
    rows = [
        ("multiple_choice", NASTY, ["a = b", "{c}", "d: e ~ f"], "a = b", []),
        ("true_false", f"{NASTY} is stated", [], "false", []),
        ("short_answer", f"Name it: {NASTY}", [], "x#y", ["x\\y"]),
        ("fill_in_blank", "The _____ {is} here: ok", [], "value=1", []),
    ]
    for position, (kind, prompt, options, answer, accepted) in enumerate(rows, start=1):
        Question.objects.create(
            quiz=quiz,
            position=position,
            type=kind,
            prompt=prompt,
            options=options,
            answer=answer,
            accepted=accepted,
            explanation="Because: {the} source # says ~so",
            quote="q",
        )
    return quiz


def test_the_grammar_checker_refuses_unescaped_special_characters():
    with pytest.raises(GiftSyntaxError):
        parse("::Q1::What is 1 = 1? {TRUE}")
    with pytest.raises(GiftSyntaxError):
        parse("::Q1::Pick {=a ~b {c}}")
    with pytest.raises(GiftSyntaxError):
        parse("::Q1::No answers here")
    assert parse(f"::Q1::{gift_escape(NASTY)} {{TRUE}}")[0].text == NASTY


def test_gift_escapes_every_special_character_and_parses_back():
    quiz = quiz_with_nasty_text()
    questions = list(quiz.questions.all())

    parsed = parse(quiz_gift(quiz, questions))

    assert [q.title for q in parsed] == ["Q1", "Q2", "Q3", "Q4"]
    choice, truth, short, blank = parsed
    assert (choice.kind, choice.text) == ("multichoice", NASTY)
    assert [(correct, text) for correct, text, _ in choice.answers] == [
        (True, "a = b"),
        (False, "{c}"),
        (False, "d: e ~ f"),
    ]
    assert choice.general_feedback == "Because: {the} source # says ~so"
    assert (truth.kind, truth.truth, truth.text) == ("truefalse", False, f"{NASTY} is stated")
    assert (short.kind, [text for _, text, _ in short.answers]) == ("shortanswer", ["x#y", "x\\y"])
    assert (blank.kind, blank.text, blank.answers[0][1]) == (
        "shortanswer",
        "The _____ {is} here: ok",
        "value=1",
    )


def test_the_latest_quiz_exports_as_gift_and_moodle_xml():
    session = session_with_sample("french-revolution.docx")
    client = learner_client(session.learner)
    client.post(f"/api/v1/tutor/sessions/{session.pk}/quiz/", {"num_questions": 8}, format="json")
    quiz = Quiz.objects.get(session=session)
    questions = list(quiz.questions.all())

    gift = client.get(f"/api/v1/tutor/sessions/{session.pk}/quiz/", {"format": "gift"})
    xml = client.get(f"/api/v1/tutor/sessions/{session.pk}/quiz/", {"format": "moodle_xml"})

    assert gift.status_code == 200
    assert gift["Content-Type"].startswith("text/plain")
    assert "attachment" in gift["Content-Disposition"]
    parsed = parse(gift.content.decode())
    assert len(parsed) == len(questions) == 8
    for question, exported in zip(questions, parsed, strict=True):
        if question.type == "true_false":
            assert exported.truth is (question.answer == "true")
        else:
            correct = [text for is_correct, text, _ in exported.answers if is_correct]
            assert correct[0] == question.answer

    assert xml.status_code == 200
    root = ElementTree.fromstring(xml.content)  # noqa: S314  (our own export)
    assert root.tag == "quiz"
    elements = root.findall("question")
    assert len(elements) == 8
    for question, element in zip(questions, elements, strict=True):
        assert element.findtext("questiontext/text") == question.prompt
        assert element.findtext("generalfeedback/text") == question.explanation
        answers = {a.findtext("text"): a.get("fraction") for a in element.findall("answer")}
        assert answers[question.answer] == "100"
        if question.type == "multiple_choice":
            assert element.get("type") == "multichoice"
            assert sorted(answers.values()) == ["0"] * (len(question.options) - 1) + ["100"]
        elif question.type == "true_false":
            assert element.get("type") == "truefalse"
    assert InteractionLog.objects.filter(session=session, kind="quiz_exported").count() == 2
