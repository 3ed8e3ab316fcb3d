"""Resolution of conversations: confirmed, assumed, unresolved, reopened; the clock is the
`now` the refresh is given, never the real one."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics.insights import insights_due, insights_refresh
from analytics.models import AnswerRating, ConversationInsight
from analytics.resolution import is_confirmation
from chatplatform.runtime_config.services import config_set
from conversations.chat.models import Message
from tests.analytics.factories import answer, ask, conversation_make
from tests.chatplatform.runtime_config.clock import process_copies_cleared
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_runtime_config():
    # A value set by one test must not stay in this process's copy for the next.
    with process_copies_cleared():
        yield


T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def resolution_at(conversation, now: datetime) -> tuple[str, datetime | None]:
    insights_refresh([conversation.id], now=now)
    insight = ConversationInsight.objects.get(conversation=conversation)
    return insight.resolution, insight.resolved_at


@pytest.mark.parametrize(
    ("text", "confirms"),
    [
        ("Tak, det hjalp!", True),
        ("Thanks, that solved it", True),
        ("Perfekt, mange tak", True),
        ("Tack!", True),
        ("Tak, men hvornår kommer pakken?", False),
        ("Det hjalp ikke", False),
        ("That did not help at all, thanks", False),
        ("How long does delivery take?", False),
    ],
)
def test_it_tells_a_visitors_thanks_from_a_new_question(text, confirms):
    assert is_confirmation(text) is confirms


def test_the_visitor_saying_it_helped_confirms_at_once():
    bot = ChatbotFactory()
    conversation, messages = conversation_make(
        bot, [ask("Hvad koster fragt?"), answer("Fragt koster 49 kr."), ask("Tak, det hjalp!")], start=T0
    )
    assert resolution_at(conversation, T0 + 3 * MINUTE) == ("confirmed", messages[2].created_at)


def test_a_thumbs_up_on_the_last_answer_confirms():
    bot = ChatbotFactory()
    conversation, (_, reply) = conversation_make(bot, [ask("Hvad koster fragt?"), answer("49 kr.")], start=T0)
    AnswerRating.objects.create(answer=reply, conversation=conversation, chatbot=bot, value="up")
    assert resolution_at(conversation, T0 + 2 * MINUTE)[0] == "confirmed"


def test_quiet_after_a_good_answer_is_assumed_only_once_the_quiet_time_has_passed():
    bot = ChatbotFactory()
    conversation, (_, reply) = conversation_make(bot, [ask("Hvad koster fragt?"), answer("49 kr.")], start=T0)
    assert resolution_at(conversation, reply.created_at + 29 * MINUTE) == ("open", None)
    assert insights_due(now=reply.created_at + 31 * MINUTE) == [conversation.id]
    assert resolution_at(conversation, reply.created_at + 31 * MINUTE) == (
        "assumed",
        reply.created_at + 30 * MINUTE,
    )


def test_the_quiet_time_is_a_runtime_config_key():
    bot = ChatbotFactory()
    conversation, (_, reply) = conversation_make(bot, [ask("Hvad koster fragt?"), answer("49 kr.")], start=T0)
    config_set(
        "analytics_quiet_minutes", {"resolution_assumed": 5, "analysis": 10}, author=None, reason="test"
    )
    assert resolution_at(conversation, reply.created_at + 6 * MINUTE)[0] == "assumed"


@pytest.mark.parametrize(
    "last_answer",
    [
        answer("The answer could not be completed", status=Message.Status.FAILED),
        answer("Det kan", status=Message.Status.STOPPED),
        answer("Det kunne jeg desværre ikke finde i vores vidensbase."),
    ],
    ids=["failed", "stopped", "not-found"],
)
def test_quiet_after_an_answer_that_did_not_help_is_unresolved(last_answer):
    from analytics.records import answers_metrics_record

    bot = ChatbotFactory()
    conversation, (_, reply) = conversation_make(bot, [ask("Sælger I gavekort?"), last_answer], start=T0)
    answers_metrics_record([reply.id])  # marks the "not found" reply
    assert resolution_at(conversation, reply.created_at + 31 * MINUTE)[0] == "unresolved"


def test_a_new_question_within_a_day_reopens_and_a_later_one_keeps_the_resolution():
    bot = ChatbotFactory()
    conversation, _ = conversation_make(bot, [ask("Hvad koster fragt?"), answer("49 kr.")], start=T0)
    assert resolution_at(conversation, T0 + 40 * MINUTE)[0] == "assumed"

    question = Message.objects.create(conversation=conversation, role="user", text="Og til Sverige?")
    Message.objects.filter(pk=question.pk).update(created_at=T0 + timedelta(hours=3))
    assert resolution_at(conversation, T0 + timedelta(hours=3, minutes=1)) == ("open", None)

    later, (_, later_reply) = conversation_make(bot, [ask("Hvad koster fragt?"), answer("49 kr.")], start=T0)
    assert resolution_at(later, T0 + 40 * MINUTE)[0] == "assumed"
    question = Message.objects.create(conversation=later, role="user", text="Har I gavekort?")
    Message.objects.filter(pk=question.pk).update(created_at=T0 + timedelta(days=2))
    assert resolution_at(later, T0 + timedelta(days=2, minutes=1)) == (
        "assumed",
        later_reply.created_at + 30 * MINUTE,
    )
