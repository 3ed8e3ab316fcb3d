"""Job kinds of conversation insights: `conversation_analysis` (topic and score of a chatbot's
conversations, or of a date range of them) and `conversation_insights_refresh` (by beat: settle
the resolution of conversations that went quiet, and analyse those quiet long enough)."""

from datetime import UTC, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from rest_framework import serializers

from analytics.analysis import conversation_analyse, conversations_quiet
from analytics.insights import insights_due, insights_refresh
from analytics.models import ConversationInsight
from analytics.records import answers_metrics_record, answers_unrecorded
from chatplatform.jobs.errors import JobError
from chatplatform.jobs.registry import JobContext, job_kind
from conversations.chat.models import Conversation
from conversations.models import ChatbotSettings

PROGRESS_EVERY = 20
# Answers finished this recently without a performance record get one on the next refresh.
BACKFILL_WINDOW = timedelta(days=1)


class AnalysisPayload(serializers.Serializer):
    chatbot = serializers.SlugField(help_text="The chatbot's chatbot_id.")
    # "from" is a Python keyword: the payload's names are mapped onto day_from/day_to.
    day_from = serializers.DateField(required=False, help_text="First day of conversations (UTC).")
    day_to = serializers.DateField(required=False, help_text="Last day of conversations (UTC).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = self.fields.pop("day_from")
        self.fields["to"] = self.fields.pop("day_to")

    def validate_chatbot(self, value: str) -> str:
        if not ChatbotSettings.objects.filter(chatbot_id=value).exists():
            raise serializers.ValidationError(f'There is no chatbot "{value}".')
        return value

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        return attrs


@job_kind(
    "conversation_analysis",
    payload=AnalysisPayload,
    max_attempts=3,
    description="Judge topic and score again for a chatbot's conversations that started from/to "
    "(all of them by default).",
)
def run_conversation_analysis(ctx: JobContext, payload: dict) -> dict:
    chatbot = ChatbotSettings.objects.filter(chatbot_id=payload["chatbot"]).first()
    if chatbot is None:
        raise JobError("chatbot_not_found", "There is no such chatbot.", transient=False)
    day = serializers.DateField()
    conversations = Conversation.objects.filter(chatbot=chatbot)
    if payload.get("from"):
        start = datetime.combine(day.to_internal_value(payload["from"]), time.min, tzinfo=UTC)
        conversations = conversations.filter(created_at__gte=start)
    if payload.get("to"):
        end = datetime.combine(day.to_internal_value(payload["to"]), time.max, tzinfo=UTC)
        conversations = conversations.filter(created_at__lte=end)
    ids = list(conversations.order_by("created_at").values_list("id", flat=True))
    analysed = failed = 0
    for done, conversation_id in enumerate(ids):
        if done % PROGRESS_EVERY == 0:
            ctx.progress(done * 100 // max(len(ids), 1), f"{done} of {len(ids)} conversations")
        insight = conversation_analyse(conversation_id)
        if insight is None:
            continue
        if insight.analysis_error:
            failed += 1
        else:
            analysed += 1
    return {"conversations": len(ids), "analysed": analysed, "failed": failed}


@job_kind(
    "conversation_insights_refresh",
    payload=None,
    max_attempts=2,
    description="Write missing performance records, settle the resolution of conversations that "
    "went quiet, and judge topic and score of those quiet for the analysis time.",
)
def run_conversation_insights_refresh(ctx: JobContext, payload: dict) -> dict:
    now = timezone.now()
    backfilled = answers_metrics_record(answers_unrecorded(since=now - BACKFILL_WINDOW))
    settled = insights_refresh(insights_due(now=now), now=now)
    ctx.progress(10, f"{settled} resolutions checked")
    quiet = conversations_quiet(now=now)
    failed = 0
    for done, conversation_id in enumerate(quiet):
        if done % PROGRESS_EVERY == 0:
            ctx.progress(10 + done * 90 // max(len(quiet), 1), f"{done} of {len(quiet)} analysed")
        insight = conversation_analyse(conversation_id, now=now)
        failed += bool(insight and insight.analysis_error)
    errors = ConversationInsight.objects.filter(~Q(analysis_error="")).count()
    return {
        "records_backfilled": backfilled,
        "resolutions_checked": settled,
        "analysed": len(quiet) - failed,
        "failed": failed,
        "with_errors": errors,
    }
