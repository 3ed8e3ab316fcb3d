"""A checker of Moodle's GIFT grammar, for the export tests: it parses a GIFT file back into
questions and refuses what Moodle's importer would misread (an unescaped `~ = # { } :` in text,
an unclosed answer set, a second answer set, a bare backslash)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SPECIAL = set("~=#{}:")


class GiftSyntaxError(ValueError):
    pass


@dataclass
class GiftQuestion:
    title: str
    text: str  # the answer set's place is "_____" when it stands inside the text
    kind: str  # truefalse | multichoice | shortanswer
    answers: list[tuple[bool, str, str]] = field(default_factory=list)  # (correct, text, feedback)
    truth: bool | None = None
    general_feedback: str = ""


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Characters with whether they were escaped."""
    tokens: list[tuple[str, bool]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            if index + 1 >= len(text) or text[index + 1] not in SPECIAL | {"\\", "n"}:
                raise GiftSyntaxError(f"bare backslash at {index}")
            following = text[index + 1]
            tokens.append(("\n" if following == "n" else following, True))
            index += 2
            continue
        tokens.append((char, False))
        index += 1
    return tokens


def _text(tokens: list[tuple[str, bool]], where: str) -> str:
    for char, escaped in tokens:
        if char in SPECIAL and not escaped:
            raise GiftSyntaxError(f"unescaped {char!r} in {where}")
    return "".join(char for char, _ in tokens)


def _split(tokens, separators: str):
    """Split at unescaped separator characters, keeping which separator began each part."""
    parts: list[tuple[str, list]] = []
    current: list = []
    lead = ""
    for char, escaped in tokens:
        if char in separators and not escaped:
            if current or lead:
                parts.append((lead, current))
            lead, current = char, []
        else:
            current.append((char, escaped))
    if current or lead:
        parts.append((lead, current))
    return parts


def _answer_set(tokens) -> tuple[str, list, bool | None, str]:
    raw = "".join(char if not escaped else "\x00" for char, escaped in tokens)
    general = ""
    marker = raw.find("####")
    if marker >= 0:
        general = _text(tokens[marker + 4 :], "general feedback")
        tokens, raw = tokens[:marker], raw[:marker]
    head = raw.strip().split("#", 1)[0].strip()
    if head in ("T", "F", "TRUE", "FALSE"):
        return "truefalse", [], head.startswith("T"), general
    answers = []
    for lead, part in _split(tokens, "=~"):
        if lead not in ("=", "~"):
            if _text(part, "answers").strip():
                raise GiftSyntaxError("answer text without = or ~")
            continue
        hashes = [i for i, token in enumerate(part) if token == ("#", False)]
        text_part, feedback = (part[: hashes[0]], part[hashes[0] + 1 :]) if hashes else (part, [])
        answers.append(
            (lead == "=", _text(text_part, "an answer").strip(), _text(feedback, "feedback").strip())
        )
    if not answers:
        raise GiftSyntaxError("empty answer set")
    kind = "shortanswer" if all(correct for correct, _, _ in answers) else "multichoice"
    return kind, answers, None, general


def parse_question(block: str) -> GiftQuestion:
    tokens = _tokens(block.strip())
    title = ""
    if len(tokens) >= 2 and tokens[0] == (":", False) and tokens[1] == (":", False):
        end = next(
            (
                i
                for i in range(2, len(tokens) - 1)
                if tokens[i] == (":", False) and tokens[i + 1] == (":", False)
            ),
            None,
        )
        if end is None:
            raise GiftSyntaxError("unclosed title")
        title = _text(tokens[2:end], "the title")
        tokens = tokens[end + 2 :]
    opens = [i for i, token in enumerate(tokens) if token == ("{", False)]
    closes = [i for i, token in enumerate(tokens) if token == ("}", False)]
    if len(opens) != 1 or len(closes) != 1 or closes[0] < opens[0]:
        raise GiftSyntaxError("a question needs exactly one answer set {...}")
    before, inside, after = tokens[: opens[0]], tokens[opens[0] + 1 : closes[0]], tokens[closes[0] + 1 :]
    kind, answers, truth, general = _answer_set(inside)
    text_before, text_after = _text(before, "the question"), _text(after, "the question")
    text = (
        f"{text_before.strip()} _____ {text_after.strip()}".strip()
        if text_after.strip()
        else text_before.strip()
    )
    return GiftQuestion(title, re.sub(r"\s+", " ", text), kind, answers, truth, general.strip())


def parse(document: str) -> list[GiftQuestion]:
    questions = []
    for block in re.split(r"\n\s*\n", document.strip()):
        lines = [line for line in block.splitlines() if not line.lstrip().startswith("//")]
        if any(line.strip() for line in lines):
            questions.append(parse_question("\n".join(lines)))
    return questions
