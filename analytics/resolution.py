"""Whether a conversation solved the visitor's problem: the rules, as pure functions of what
happened and when (the insight service feeds them; tests drive them with a fake clock).

- `confirmed`: the visitor's latest message says so ("tak, det hjalp", "thanks, that solved it"),
  or the visitor rated the latest answer up.
- `assumed`: no new question within the quiet time after an answer that went well.
- `unresolved`: quiet as long, but the latest answer failed, was stopped, said "not found", or
  was rated down (or there was no answer at all).
- `open`: otherwise. A question within `REOPEN_WINDOW` of a resolution reopens the conversation;
  one asked later is a new visit and leaves the earlier resolution as it was.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

REOPEN_WINDOW = timedelta(hours=24)

OPEN, CONFIRMED, ASSUMED, UNRESOLVED = "open", "confirmed", "assumed", "unresolved"

# Short thanks or "it worked" messages, in the shops' languages. A message with a question mark,
# or longer than a short reply, is a new question, even when it starts with thanks.
_CONFIRMATION = re.compile(
    r"\b("
    r"tak|tusind tak|mange tak|det hjalp|hjalp|løst|perfekt|super|fint|"  # da
    r"thanks?|thank you|thx|that helped|helped|solved|resolved|perfect|great|got it|"  # en
    r"tack|det hjälpte|löst|"  # sv
    r"takk|det hjalp|"  # no
    r"danke|hat geholfen|gelöst"  # de
    r")\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(ikke|not|no|nej|nei|inte|nicht|kein|don't|doesn't|didn't)\b", re.IGNORECASE)
CONFIRMATION_MAX_CHARS = 80


def is_confirmation(text: str) -> bool:
    """Whether a visitor's message says the answer solved the problem (simple rules)."""
    text = text.strip()
    if not text or len(text) > CONFIRMATION_MAX_CHARS or "?" in text:
        return False
    return bool(_CONFIRMATION.search(text)) and not _NEGATION.search(text)


@dataclass(frozen=True)
class Facts:
    """What the rules read about one conversation."""

    last_question_at: datetime | None  # the latest visitor message that is not a confirmation
    last_confirmation_at: datetime | None
    last_answer_at: datetime | None
    last_answer_went_well: bool  # completed, not a "not found" reply, not rated down
    last_answer_rated_up_at: datetime | None  # the rating's time, when the latest answer has "up"
    last_message_at: datetime | None


@dataclass(frozen=True)
class Resolution:
    value: str
    at: datetime | None = None


def resolution_judge(
    facts: Facts, *, now: datetime, assume_after: timedelta, current: Resolution | None = None
) -> Resolution:
    """The conversation's resolution at `now`; `current` is the one stored before."""
    if (
        current is not None
        and current.value != OPEN
        and current.at is not None
        and facts.last_question_at is not None
        and facts.last_question_at > current.at + REOPEN_WINDOW
    ):
        return current  # asked again a day later: a new visit, not a reopened one
    confirmed = [
        at
        for at in (facts.last_confirmation_at, facts.last_answer_rated_up_at)
        if at is not None and (facts.last_question_at is None or at > facts.last_question_at)
    ]
    if confirmed:
        return Resolution(CONFIRMED, min(confirmed))
    if facts.last_message_at is None or now - facts.last_message_at < assume_after:
        return Resolution(OPEN)
    answered = facts.last_answer_at is not None and (
        facts.last_question_at is None or facts.last_answer_at >= facts.last_question_at
    )
    if answered and facts.last_answer_went_well:
        return Resolution(ASSUMED, facts.last_message_at + assume_after)
    return Resolution(UNRESOLVED, facts.last_message_at + assume_after)
