"""Admin for the analytics records: each chatbot's topics (editable), insights and performance
records (read-only), and the "Re-run analysis" action, added to the conversations' own admin
from here because the chat app does not import this one.

Registered by AnalyticsConfig.ready(), after the admin's autodiscovery has registered the
conversation admin.
"""

from django.contrib import admin, messages

from analytics.analysis import conversation_analyse
from analytics.models import ChatbotTopic, ConversationInsight, ProcessingMetrics
from conversations.chat.models import Conversation

RERUN_MAX = 50


@admin.action(description="Re-run analysis (topic and score)")
def rerun_analysis(modeladmin, request, queryset) -> None:
    conversation_ids = _conversation_ids(queryset)
    if len(conversation_ids) > RERUN_MAX:
        modeladmin.message_user(
            request,
            f"Select at most {RERUN_MAX} conversations, or run a conversation_analysis job for a date range.",
            messages.WARNING,
        )
        return
    failed = []
    for conversation_id in conversation_ids:
        insight = conversation_analyse(conversation_id)
        if insight is not None and insight.analysis_error:
            failed.append(insight.analysis_error)
    done = len(conversation_ids) - len(failed)
    modeladmin.message_user(request, f"Analysed {done} conversation(s).", messages.SUCCESS)
    if failed:
        modeladmin.message_user(
            request, f"{len(failed)} analysis(es) failed, e.g. {failed[0]}", messages.ERROR
        )


def _conversation_ids(queryset) -> list:
    if queryset.model is ConversationInsight:
        return list(queryset.values_list("conversation_id", flat=True))
    return list(queryset.values_list("id", flat=True))


class ChatbotTopicAdmin(admin.ModelAdmin):
    list_display = ["name", "chatbot", "position", "description"]
    list_editable = ["position"]
    list_filter = ["chatbot"]
    search_fields = ["name", "chatbot__chatbot_id"]
    ordering = ["chatbot", "position", "name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ConversationInsightAdmin(ReadOnlyAdmin):
    list_display = [
        "conversation",
        "chatbot",
        "started_at",
        "questions",
        "answers",
        "resolution",
        "topic",
        "score",
        "analysis_error",
    ]
    list_filter = ["chatbot", "resolution", "topic", "score"]
    date_hierarchy = "started_at"
    list_select_related = ["chatbot", "conversation__chatbot"]
    actions = [rerun_analysis]


class ProcessingMetricsAdmin(ReadOnlyAdmin):
    list_display = [
        "answer_id",
        "chatbot",
        "flow",
        "status",
        "ttft_ms",
        "tokens_per_s",
        "total_ms",
        "created_at",
    ]
    list_filter = ["chatbot", "flow", "status", "provider", "not_found"]
    date_hierarchy = "created_at"
    list_select_related = ["chatbot"]


def records_admin_register() -> None:
    """Register the admins above (unless another module of this app already registered one),
    and add the action to the conversations' admin (registered by their app)."""
    for model, model_admin in (
        (ChatbotTopic, ChatbotTopicAdmin),
        (ConversationInsight, ConversationInsightAdmin),
        (ProcessingMetrics, ProcessingMetricsAdmin),
    ):
        if not admin.site.is_registered(model):
            admin.site.register(model, model_admin)
    conversation_admin_extend()


def conversation_admin_extend() -> None:
    """Add the action to the conversations' admin (registered by their app)."""
    conversation_admin = admin.site._registry.get(Conversation)
    if conversation_admin is not None and rerun_analysis not in (conversation_admin.actions or []):
        conversation_admin.actions = [*(conversation_admin.actions or []), rerun_analysis]
