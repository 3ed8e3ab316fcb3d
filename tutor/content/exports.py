"""A quiz as Moodle can import it: GIFT text or Moodle XML.

GIFT marks answers with `{}`, `=`, `~`, `#` and `:`; those characters (and the backslash) are
escaped with a backslash wherever they are text. Fill-in-the-blank questions put the answer set
where the blank is, as GIFT's missing-word questions do. Both formats carry each question's
explanation as its general feedback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.etree import ElementTree

from tutor.content.drafts import BLANK, FILL_IN_BLANK, MULTIPLE_CHOICE, SHORT_ANSWER, TRUE_FALSE
from tutor.content.models import Question, Quiz

_GIFT_SPECIAL = re.compile(r"([\\~=#{}:])")
_MOODLE_TYPES = {
    MULTIPLE_CHOICE: "multichoice",
    TRUE_FALSE: "truefalse",
    SHORT_ANSWER: "shortanswer",
    FILL_IN_BLANK: "shortanswer",
}


def gift_escape(text: str) -> str:
    """Text safe inside GIFT: special characters escaped, on one line."""
    return _GIFT_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _gift_feedback(question: Question) -> str:
    return f"####{gift_escape(question.explanation)}" if question.explanation else ""


def _gift_answers(question: Question) -> str:
    if question.type == TRUE_FALSE:
        return f"{{{'TRUE' if question.answer == 'true' else 'FALSE'}{_gift_feedback(question)}}}"
    if question.type == MULTIPLE_CHOICE:
        options = " ".join(
            f"{'=' if option == question.answer else '~'}{gift_escape(option)}" for option in question.options
        )
        return f"{{{options}{_gift_feedback(question)}}}"
    answers = [question.answer, *[alias for alias in question.accepted or [] if alias != question.answer]]
    return "{" + " ".join(f"={gift_escape(answer)}" for answer in answers) + _gift_feedback(question) + "}"


def quiz_gift(quiz: Quiz, questions: Iterable[Question]) -> str:
    """The quiz in GIFT, one question per paragraph, titled Q1, Q2, ..."""
    blocks = [f"// Quiz {quiz.pk}: {quiz.delivered} of {quiz.requested} questions, {quiz.difficulty}"]
    for question in questions:
        title = f"::Q{question.position}::"
        answers = _gift_answers(question)
        if question.type == FILL_IN_BLANK and BLANK in question.prompt:
            before, after = question.prompt.split(BLANK, 1)
            text = f"{gift_escape(before)} {answers} {gift_escape(after)}".strip()
            blocks.append(f"{title}{text}")
        else:
            blocks.append(f"{title}{gift_escape(question.prompt)} {answers}")
    return "\n\n".join(blocks) + "\n"


def _text(parent: ElementTree.Element, tag: str, value: str, *, format_: str | None = "plain_text") -> None:
    element = ElementTree.SubElement(parent, tag, {"format": format_} if format_ else {})
    ElementTree.SubElement(element, "text").text = value


def _answer(parent: ElementTree.Element, text: str, fraction: int) -> None:
    answer = ElementTree.SubElement(parent, "answer", {"fraction": str(fraction), "format": "plain_text"})
    ElementTree.SubElement(answer, "text").text = text


def quiz_moodle_xml(quiz: Quiz, questions: Iterable[Question]) -> bytes:
    """The quiz in Moodle XML (UTF-8)."""
    root = ElementTree.Element("quiz")
    for question in questions:
        element = ElementTree.SubElement(root, "question", {"type": _MOODLE_TYPES[question.type]})
        name = ElementTree.SubElement(element, "name")
        ElementTree.SubElement(name, "text").text = f"Q{question.position}"
        _text(element, "questiontext", question.prompt)
        _text(element, "generalfeedback", question.explanation)
        ElementTree.SubElement(element, "defaultgrade").text = "1"
        if question.type == MULTIPLE_CHOICE:
            ElementTree.SubElement(element, "single").text = "true"
            ElementTree.SubElement(element, "shuffleanswers").text = "true"
            ElementTree.SubElement(element, "answernumbering").text = "abc"
            for option in question.options:
                _answer(element, option, 100 if option == question.answer else 0)
        elif question.type == TRUE_FALSE:
            _answer(element, "true", 100 if question.answer == "true" else 0)
            _answer(element, "false", 100 if question.answer == "false" else 0)
        else:
            ElementTree.SubElement(element, "usecase").text = "0"
            for answer in dict.fromkeys([question.answer, *(question.accepted or [])]):
                _answer(element, answer, 100)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
