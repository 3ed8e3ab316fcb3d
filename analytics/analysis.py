"""Topic and score of a conversation (the old platform's "getEmneAndScore"): once it has been
quiet for a while, the conversation is put in one of its chatbot's topics and scored 1-10 for how
well the bot served the shopper, with a one-line reason and the judge's name.

The `openai` provider judges with a JSON reply (`complete_json`: the shared re-ask on invalid
JSON); the `local` one by similarity to the topics and by rules over what went wrong. Only
redacted text reaches a provider, and never an order answer's text. A failing analysis writes
`analysis_error` on the insight and touches nothing else.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from analytics.config import quiet_minutes
from analytics.insights import insights_refresh
from analytics.models import ChatbotTopic, ConversationInsight, ProcessingMetrics
from analytics.topic_words import topic_description
from chatplatform import telemetry
from chatplatform.ai import get_chat_provider
from chatplatform.ai.local import LocalEmbedder
from chatplatform.errors import ApplicationError
from chatplatform.personal_data import redact_personal
from conversations.chat.models import Message
from conversations.models import ChatbotSettings, Flow

logger = logging.getLogger(__name__)

LOCAL_JUDGE = "local-rules"
# Below this similarity to every topic, the conversation goes to the catch-all topic, if any.
MIN_TOPIC_SIMILARITY = 0.05
CATCH_ALL_TOPICS = {"andet", "other", "others", "andre", "övrigt", "sonstiges", "misc"}
# Two questions this similar (or equal once normalised) count as the shopper asking again.
REPEAT_SIMILARITY = 0.8
TRANSCRIPT_MAX_CHARS = 6000

_SYSTEM = (
    "You judge one conversation between a web shop's customer-service chatbot and a shopper. "
    "Choose the one topic from the given list that fits the shopper's questions best, and score "
    "from 1 (useless) to 10 (fully helped) how well the chatbot served the shopper. Answer with "
    'one JSON object: {"topic": "<one of the topics, exactly>", "score": <1-10>, '
    '"reason": "<one short sentence>"}.'
)


@dataclass(frozen=True)
class Judgement:
    topic: str
    score: int
    reason: str
    judged_by: str


@dataclass
class Transcript:
    """One conversation as the judges see it (texts redacted)."""

    turns: list[tuple[str, str]] = field(default_factory=list)  # (role, text)
    questions: list[str] = field(default_factory=list)
    unanswered: int = 0
    not_found: int = 0
    stopped: int = 0
    failed_order_lookups: int = 0
    ratings_up: int = 0
    ratings_down: int = 0
    resolution: str = ConversationInsight.Resolution.OPEN


class AnalysisFailed(Exception):
    """The judge's reply could not be used; `code` is stored on the insight."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def chatbot_topics(chatbot: ChatbotSettings) -> list[ChatbotTopic]:
    """The chatbot's topics in order; those of its `topics` list when none were made in admin."""
    topics = list(ChatbotTopic.objects.filter(chatbot=chatbot))
    if topics:
        return topics
    names = [str(name).strip() for name in chatbot.topics or [] if str(name).strip()]
    return [
        ChatbotTopic(chatbot=chatbot, name=name, description=topic_description(name), position=i)
        for i, name in enumerate(dict.fromkeys(names))
    ]


def conversation_analyse(conversation_id, *, now: datetime | None = None) -> ConversationInsight | None:
    """Judge one conversation's topic and score and store them on its insight (made first when
    missing). Any failure is stored as `analysis_error` instead; None without messages."""
    now = now or timezone.now()
    insights_refresh([conversation_id], now=now)
    insight = (
        ConversationInsight.objects.select_related("chatbot").filter(conversation_id=conversation_id).first()
    )
    if insight is None:
        return None
    try:
        judgement = _judge(insight)
    except Exception as exc:
        code = exc.code if isinstance(exc, AnalysisFailed | ApplicationError) else "analysis_failed"
        logger.warning(
            "Analysis of conversation %s failed: %s (%s)", conversation_id, code, type(exc).__name__
        )
        ConversationInsight.objects.filter(pk=insight.pk).update(
            analysis_error=f"{code}: {exc}"[:300], updated_at=timezone.now()
        )
        insight.refresh_from_db()
        return insight
    ConversationInsight.objects.filter(pk=insight.pk).update(
        topic=judgement.topic[:100],
        score=judgement.score,
        score_reason=judgement.reason[:300],
        judged_by=judgement.judged_by[:100],
        analysed_at=now,
        analysis_error="",
        updated_at=timezone.now(),
    )
    insight.refresh_from_db()
    return insight


def _judge(insight: ConversationInsight) -> Judgement:
    topics = chatbot_topics(insight.chatbot)
    if not topics:
        raise AnalysisFailed("no_topics", "The chatbot has no topics configured.")
    transcript = transcript_of(insight)
    with telemetry.context(
        tenant_type="chatbot", tenant_id=insight.chatbot.chatbot_id, feature="conversation_analysis"
    ):
        if get_chat_provider().composes_text:
            return judge_openai(transcript, topics)
        return judge_local(transcript, topics)


def transcript_of(insight: ConversationInsight) -> Transcript:
    messages = list(
        Message.objects.filter(conversation_id=insight.conversation_id)
        .exclude(status=Message.Status.STREAMING)
        .order_by("created_at")
        .only("id", "role", "text", "status", "flow", "reply_to_id")
    )
    not_found = set(
        ProcessingMetrics.objects.filter(conversation_id=insight.conversation_id, not_found=True).values_list(
            "answer_id", flat=True
        )
    )
    # A stopped answer is counted as stopped, not as unanswered too.
    answered = {
        m.reply_to_id
        for m in messages
        if m.role == Message.Role.ASSISTANT and m.status in (Message.Status.COMPLETED, Message.Status.STOPPED)
    }
    transcript = Transcript(
        stopped=insight.stopped_answers,
        failed_order_lookups=insight.failed_order_lookups,
        ratings_up=insight.ratings_up,
        ratings_down=insight.ratings_down,
        resolution=insight.resolution,
    )
    for message in messages:
        if message.role == Message.Role.USER:
            text = redact_personal(message.text)
            transcript.questions.append(text)
            transcript.turns.append(("shopper", text))
            if message.id not in answered:
                transcript.unanswered += 1
        elif message.flow == Flow.Name.APIFLOW:
            # An order answer tells the shopper's own order: its text is never sent anywhere.
            transcript.turns.append(("chatbot", "[order details]"))
        else:
            transcript.turns.append(("chatbot", redact_personal(message.text) or f"[{message.status}]"))
            if message.id in not_found:
                transcript.not_found += 1
    return transcript


# --- local: similarity and rules -------------------------------------------------------------


def judge_local(transcript: Transcript, topics: list[ChatbotTopic]) -> Judgement:
    embedder = LocalEmbedder()
    text = " ".join(text for role, text in transcript.turns if role == "shopper" or not text.startswith("["))
    topic_texts = [f"{t.name} {t.name} {t.description}".strip() for t in topics]
    vectors = embedder.embed_matrix([text, *topic_texts])
    similarities = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarities))
    topic = topics[best].name
    if similarities[best] < MIN_TOPIC_SIMILARITY:
        topic = next((t.name for t in topics if t.name.strip().lower() in CATCH_ALL_TOPICS), topic)
    score, reasons = _rules_score(transcript, repeated=_repeated_questions(embedder, transcript.questions))
    return Judgement(topic=topic, score=score, reason=reasons, judged_by=LOCAL_JUDGE)


def _rules_score(transcript: Transcript, *, repeated: int) -> tuple[int, str]:
    """8 for a conversation where nothing went wrong; what went wrong takes points off, the
    shopper's thanks or thumbs up add some. Returns the score and the reason."""
    findings = [
        (-3, transcript.unanswered, "unanswered question"),
        (-2, transcript.not_found, '"not found" reply'),
        (-2, repeated, "repeated question"),
        (-1, transcript.stopped, "stopped answer"),
        (-2, transcript.failed_order_lookups, "failed order lookup"),
        (-2, transcript.ratings_down, "answer rated down"),
        (1, transcript.ratings_up, "answer rated up"),
    ]
    score = 8
    said = []
    for points, count, what in findings:
        if count:
            score += points * count
            said.append(f"{count} {what}{'s' if count > 1 else ''}")
    if transcript.resolution == ConversationInsight.Resolution.CONFIRMED:
        score += 2
        said.append("the shopper confirmed it helped")
    elif transcript.resolution == ConversationInsight.Resolution.ASSUMED:
        score += 1
        said.append("no follow-up question")
    elif transcript.resolution == ConversationInsight.Resolution.UNRESOLVED:
        score -= 1
        said.append("left unresolved")
    questions = len(transcript.questions)
    if not any(count for points, count, _ in findings if points < 0):
        said.insert(0, f"all {questions} question{'s' if questions != 1 else ''} answered")
    return max(1, min(10, score)), "; ".join(said).capitalize() + "."


def _repeated_questions(embedder: LocalEmbedder, questions: list[str]) -> int:
    if len(questions) < 2:
        return 0
    normalised = [re.sub(r"\W+", " ", q.lower()).strip() for q in questions]
    vectors = embedder.embed_matrix(normalised)
    repeated = 0
    for i in range(1, len(questions)):
        earlier = vectors[:i] @ vectors[i]
        if normalised[i] in normalised[:i] or float(earlier.max()) >= REPEAT_SIMILARITY:
            repeated += 1
    return repeated


# --- openai: a JSON judgement ----------------------------------------------------------------


def judge_openai(transcript: Transcript, topics: list[ChatbotTopic]) -> Judgement:
    names = [t.name for t in topics]
    topic_lines = "\n".join(
        f"- {t.name}" + (f": {t.description.strip()}" if t.description.strip() else "") for t in topics
    )
    lines = "\n".join(f"{role}: {text}" for role, text in transcript.turns)
    if len(lines) > TRANSCRIPT_MAX_CHARS:
        lines = lines[-TRANSCRIPT_MAX_CHARS:]
    user = (
        f"Topics:\n{topic_lines}\n\nConversation:\n{lines}\n\n"
        f"Also known: {transcript.stopped} stopped answers, {transcript.failed_order_lookups} failed "
        f"order lookups, ratings {transcript.ratings_up} up and {transcript.ratings_down} down."
    )
    reply = async_to_sync(get_chat_provider().complete_json)(system=_SYSTEM, user=user)
    by_name = {name.strip().lower(): name for name in names}
    topic = by_name.get(str(reply.get("topic", "")).strip().lower())
    if topic is None:
        raise AnalysisFailed("analysis_unknown_topic", "The judge chose a topic that is not configured.")
    score = reply.get("score")
    if isinstance(score, str) and score.strip().isdigit():
        score = int(score.strip())
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 10:
        raise AnalysisFailed("analysis_bad_score", "The judge's score is not a whole number from 1 to 10.")
    reason = str(reply.get("reason") or "").strip().splitlines()
    return Judgement(
        topic=topic, score=score, reason=reason[0] if reason else "", judged_by=settings.OPENAI_CHAT_MODEL
    )


# --- which conversations, when ----------------------------------------------------------------


def conversations_quiet(*, now: datetime | None = None, limit: int = 500) -> list:
    """Conversations quiet for the analysis time and not analysed since their last message
    (those whose analysis failed wait for a re-run: admin action or job)."""
    now = now or timezone.now()
    quiet = timedelta(minutes=quiet_minutes()["analysis"])
    return list(
        ConversationInsight.objects.filter(last_message_at__lte=now - quiet, analysis_error="")
        .exclude(analysed_at__gte=F("last_message_at"))
        .order_by("last_message_at")
        .values_list("conversation_id", flat=True)[:limit]
    )
