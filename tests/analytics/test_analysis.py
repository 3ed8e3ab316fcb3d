"""Topic and score of conversations: the local rules, the OpenAI judgement (JSON re-asked once
when invalid), the jobs, and a failing analysis that leaves the conversation as it was."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.analysis import Transcript, conversation_analyse, judge_local
from analytics.models import ChatbotTopic, ConversationInsight, ProcessingMetrics
from analytics.records import answers_metrics_record
from analytics.topic_words import topic_description
from chatplatform.jobs.models import Job
from chatplatform.jobs.runner import job_claim, job_run
from chatplatform.jobs.services import job_create
from conversations.chat.models import Conversation, Message
from tests.analytics.factories import answer, ask, conversation_make
from tests.conversations.factories import ChatbotFactory
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(hours=2)


@pytest.fixture
def shop():
    return ChatbotFactory(chatbot_id="judge-shop", topics=["Levering", "Returnering", "Andet"])


def quiet_conversation(chatbot, turns):
    conversation, messages = conversation_make(chatbot, turns, start=timezone.now() - LONG_AGO)
    answers_metrics_record([m.id for m in messages if m.role == Message.Role.ASSISTANT])
    return conversation


def delivery_helped(chatbot):
    return quiet_conversation(
        chatbot,
        [
            ask("Hvornår sker levering af min ordre?"),
            answer("Levering sker inden for 1-3 hverdage med GLS til din pakkeshop."),
            ask("Tak, det hjalp!"),
            answer("Det var så lidt."),
        ],
    )


def returns_failed(chatbot):
    return quiet_conversation(
        chatbot,
        [
            ask("Hvordan laver jeg en returnering af en vin?"),
            answer("Det kunne jeg desværre ikke finde i vores vidensbase."),
            ask("Hvordan laver jeg en returnering af en vin"),
            answer("Returnering kan", status=Message.Status.STOPPED),
        ],
    )


def test_the_chatbots_topics_come_from_its_topics_list_once():
    bot = ChatbotFactory(chatbot_id="seeded-shop", topics=["Levering", "Betaling"])
    assert list(ChatbotTopic.objects.filter(chatbot=bot).values_list("name", flat=True)) == [
        "Levering",
        "Betaling",
    ]
    ChatbotTopic.objects.filter(name="Betaling").delete()
    bot.save()  # edited in admin since: left alone
    assert list(ChatbotTopic.objects.filter(chatbot=bot).values_list("name", flat=True)) == ["Levering"]


DEMO_TOPICS = ["Levering", "Returnering", "Betaling", "Produktrådgivning", "Vin til mad", "Ordrestatus"]


@pytest.mark.parametrize(
    ("question", "reply", "topic"),
    [
        ("Hvornår kommer min pakke?", "Vi leverer med GLS til pakkeshop på 1-3 hverdage.", "Levering"),
        (
            "Kan jeg sende en knust flaske retur?",
            "Ja, returnering er gratis inden for 30 dage.",
            "Returnering",
        ),
        ("Kan jeg betale med MobilePay?", "Vi tager imod MobilePay, Visa og Mastercard.", "Betaling"),
        ("Hvilken vin passer til lam?", "Til lam anbefaler vi en kraftig Syrah.", "Vin til mad"),
    ],
)
def test_local_judge_finds_the_topic_from_the_seeded_topic_words(question, reply, topic):
    topics = [ChatbotTopic(name=name, description=topic_description(name)) for name in DEMO_TOPICS]
    transcript = Transcript(turns=[("shopper", question), ("chatbot", reply)], questions=[question])
    assert judge_local(transcript, topics).topic == topic


def test_local_judge_gives_different_conversations_their_own_topic_and_score(shop):
    good = conversation_analyse(delivery_helped(shop).id)
    bad = conversation_analyse(returns_failed(shop).id)

    assert (good.topic, good.score, good.judged_by, good.analysis_error) == (
        "Levering",
        10,
        "local-rules",
        "",
    )
    assert "confirmed" in good.score_reason
    assert bad.topic == "Returnering"
    assert bad.score == 2
    for finding in ('1 "not found" reply', "1 repeated question", "1 stopped answer", "unresolved"):
        assert finding in bad.score_reason
    assert bad.analysed_at is not None


def test_openai_judge_is_asked_again_after_invalid_json_and_sees_no_personal_data(
    openai_settings, openai_server, shop
):
    conversation = quiet_conversation(
        shop,
        [
            ask("Hvornår kommer min pakke? Min mail er jens@example.dk"),
            answer("Levering tager 1-3 hverdage."),
            ask("Ordre 1234, postnummer 8000"),
            answer("Din ordre er afsendt til Jens Hansen, Vestergade 1.", flow="apiflow"),
        ],
    )
    openai_server.script(
        "Sure! Topic is Levering", '{"topic": "levering", "score": 7, "reason": "Answered.\\nMore"}'
    )

    insight = conversation_analyse(conversation.id)

    assert (insight.topic, insight.score, insight.score_reason) == ("Levering", 7, "Answered.")
    assert (insight.judged_by, insight.analysis_error) == ("gpt-4o-mini", "")
    requests = [r for r in openai_server.requests if r.path.endswith("/chat/completions")]
    assert len(requests) == 2
    sent = str(requests[-1].body["messages"])
    assert "jens@example.dk" not in sent
    assert "[email]" in sent
    assert "Vestergade" not in sent
    assert "Returnering" in sent  # the topics are offered


@pytest.mark.parametrize(
    "replies",
    [
        [Reply(status=500)],
        ["not json", "still not json"],
        ['{"topic": "Gavekort", "score": 5, "reason": "x"}'],
        ['{"topic": "Levering", "score": 11, "reason": "x"}'],
    ],
    ids=["provider-error", "invalid-json-twice", "unknown-topic", "score-out-of-range"],
)
def test_a_failing_analysis_records_its_error_and_leaves_the_conversation_untouched(
    openai_settings, openai_server, shop, replies
):
    conversation = delivery_helped(shop)
    before_conversation = list(Conversation.objects.values())
    before_messages = list(Message.objects.order_by("created_at").values())
    openai_server.script(*replies)

    insight = conversation_analyse(conversation.id)

    assert insight.analysis_error
    assert (insight.topic, insight.score, insight.analysed_at) == ("", None, None)
    assert list(Conversation.objects.values()) == before_conversation
    assert list(Message.objects.order_by("created_at").values()) == before_messages
    # Counters and resolution are still kept.
    assert (insight.questions, insight.answers, insight.resolution) == (2, 2, "confirmed")


def test_the_analysis_job_judges_a_chatbots_conversations_in_a_date_range(shop):
    delivery_helped(shop)
    returns_failed(shop)
    old = conversation_make(shop, [ask("Hej"), answer("Hej!")], start=timezone.now() - timedelta(days=10))[0]
    # From the day the quiet conversations began (yesterday when run just after midnight) to today.
    first, today = (timezone.now() - LONG_AGO).date().isoformat(), timezone.now().date().isoformat()
    job = job_create("conversation_analysis", {"chatbot": "judge-shop", "from": first, "to": today})
    job_run(job_claim())

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    assert job.result == {"conversations": 2, "analysed": 2, "failed": 0}
    assert not ConversationInsight.objects.filter(conversation=old).exists()


def test_the_refresh_job_records_settles_and_judges_only_conversations_quiet_long_enough(shop):
    quiet = delivery_helped(shop)
    busy, (_, reply) = conversation_make(
        shop, [ask("Hvad koster levering?"), answer("49 kr.")], start=timezone.now()
    )
    assert not ProcessingMetrics.objects.filter(answer=reply).exists()  # its task never ran
    job = job_create("conversation_insights_refresh", {})
    job_run(job_claim())

    job.refresh_from_db()
    assert job.result["records_backfilled"] == 1
    assert ProcessingMetrics.objects.filter(answer=reply).exists()
    judged = ConversationInsight.objects.get(conversation=quiet)
    waiting = ConversationInsight.objects.get(conversation=busy)
    assert (judged.topic, judged.score) == ("Levering", 10)
    assert (waiting.topic, waiting.score, waiting.resolution) == ("", None, "open")


def test_staff_rerun_the_analysis_of_a_conversation_from_its_admin(staff_client, shop):
    conversation = delivery_helped(shop)
    response = staff_client.post(
        "/admin/conversations/conversation/",
        {"action": "rerun_analysis", "_selected_action": [str(conversation.id)]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Analysed 1 conversation(s)." in response.content.decode()
    assert ConversationInsight.objects.get(conversation=conversation).topic == "Levering"
    assert staff_client.get("/admin/analytics/chatbottopic/").status_code == 200
    assert staff_client.get("/admin/analytics/conversationinsight/").status_code == 200
