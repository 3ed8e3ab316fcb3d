from django import forms
from django.contrib import admin, messages
from django.db import models
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from chatplatform.admin_forms import LinesField, SecretFormMixin, SecretReplaceField, secret_hint
from conversations.flows import chatbot_flows_ensure
from conversations.images.admin import ImageUploadInline  # also registers the images admin
from conversations.knowledge import admin as knowledge_admin  # noqa: F401
from conversations.knowledge.layouts import DEFAULT_NAMESPACE_NAME, namespace_as_text, namespace_from_text
from conversations.models import (
    ChatbotAPIKey,
    ChatbotSettings,
    ContextChunk,
    Conversation,
    Flow,
    Message,
    PromptTemplate,
    StreamingSession,
)
from conversations.prompt_rules import ALLOWED_PLACEHOLDERS
from conversations.prompts import DEFAULT_TEMPLATES
from conversations.services import chatbot_pinecone_check

# How a chatbot's (or a flow's) index is laid out: `conversations/knowledge/layouts.py`.
LAYOUT_FIELDS = [
    "pinecone_namespace",
    "metadata_text_field",
    "metadata_title_field",
    "metadata_source_field",
    "embedding_model",
]

# Keys must belong to a chatbot; the library's generic key model has no place here.
admin.site.unregister(APIKey)


class NamespaceField(forms.CharField):
    """Empty is NULL (the chatbot's id, or for a flow the chatbot's namespace); `__default__` is
    "" (the index's default namespace), which a text box could not otherwise tell from empty."""

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=255, **kwargs)

    def prepare_value(self, value):
        return namespace_as_text(value)

    def to_python(self, value):
        return namespace_from_text(value)


class ChatbotSettingsForm(SecretFormMixin):
    secret_fields = ("pinecone_api_key",)

    pinecone_namespace = NamespaceField(
        label="Pinecone namespace",
        help_text=f"Empty: the chatbot's id. {DEFAULT_NAMESPACE_NAME}: the index's default namespace "
        "(where indexes written by other systems often keep their records).",
    )

    new_pinecone_api_key = SecretReplaceField(label="New Pinecone API key")
    clear_pinecone_api_key = forms.BooleanField(
        label="Remove the Pinecone API key (use the local vector store)", required=False
    )
    allowed_origins = LinesField(
        required=False,
        help_text="One origin per line, e.g. https://shop.example. Empty: only this platform's host.",
    )
    topics = LinesField(required=False, help_text="One topic per line, used by conversation analytics.")

    class Meta:
        model = ChatbotSettings
        exclude = ["pinecone_api_key"]


class FlowForm(forms.ModelForm):
    example_questions = LinesField(required=False, help_text="One example question per line.")
    pinecone_namespace = NamespaceField(
        label="Pinecone namespace",
        help_text=f"Empty: the chatbot's. {DEFAULT_NAMESPACE_NAME}: the index's default namespace.",
    )

    class Meta:
        model = Flow
        fields = ["name", "title", "description", "example_questions", "is_enabled", *LAYOUT_FIELDS]
        help_texts = {
            "metadata_text_field": "Empty: the chatbot's.",
            "metadata_title_field": "Empty: the chatbot's.",
            "metadata_source_field": "Empty: the chatbot's.",
            "embedding_model": "Empty: the chatbot's.",
        }


class FlowInline(admin.StackedInline):
    model = Flow
    form = FlowForm
    extra = 0
    max_num = len(Flow.Name)
    can_delete = False
    readonly_fields = ["name", "index"]
    fields = ["name", "index", "title", "description", "example_questions", "is_enabled", *LAYOUT_FIELDS]

    @admin.display(description="Knowledge-base index")
    def index(self, obj: Flow) -> str:
        return obj.index_name or "not configured (the router skips this flow)"


@admin.register(ChatbotSettings)
class ChatbotSettingsAdmin(admin.ModelAdmin):
    form = ChatbotSettingsForm
    inlines = [FlowInline]
    list_display = ["chatbot_id", "name", "language", "is_active", "vector_store", "updated_at"]
    list_filter = ["is_active", "language"]
    search_fields = ["chatbot_id", "name"]
    readonly_fields = ["pinecone_api_key_hint", "created_at", "updated_at"]
    actions = ["check_pinecone_connection"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "chatbot_id",
                    "name",
                    "language",
                    "is_active",
                    "allowed_origins",
                    "topics",
                    "system_prompt",
                    "replace_exclamation_marks",
                ]
            },
        ),
        (
            "Answers",
            {
                "fields": [
                    "router_mode",
                    "retrieval_top_k",
                    "retrieval_min_score",
                    "history_token_budget",
                    "max_answer_tokens",
                ]
            },
        ),
        (
            "Knowledge base",
            {
                "fields": [
                    "pinecone_api_key_hint",
                    "new_pinecone_api_key",
                    "clear_pinecone_api_key",
                    "knowledgebase_index_endpoint",
                    "flow2_knowledgebase_index",
                    "flow3_knowledgebase_index",
                    "flow4_knowledgebase_index",
                    "apiflow_knowledgebase_index",
                ],
                "description": "Without a Pinecone API key the chatbot uses the local vector store.",
            },
        ),
        (
            "Existing indexes",
            {
                "fields": LAYOUT_FIELDS,
                "description": "Where the records of indexes written by another system are and how "
                "they read; each flow may override them. The action “Check Pinecone connection” "
                "proposes a mapping from a sample record.",
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The id is part of URLs and integrations; it is set once.
        return [*self.readonly_fields, "chatbot_id"] if obj else self.readonly_fields

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        chatbot_flows_ensure(chatbot=form.instance)

    @admin.display(description="Pinecone API key")
    def pinecone_api_key_hint(self, obj: ChatbotSettings) -> str:
        return secret_hint(obj.pinecone_api_key)

    @admin.display(description="Vector store")
    def vector_store(self, obj: ChatbotSettings) -> str:
        return "Pinecone" if obj.uses_pinecone else "local"

    @admin.action(description="Check Pinecone connection")
    def check_pinecone_connection(self, request, queryset):
        for chatbot in queryset:
            report = chatbot_pinecone_check(chatbot=chatbot)
            level = messages.SUCCESS if report.ok else messages.ERROR
            self.message_user(request, f"{chatbot.chatbot_id}: {report.summary}", level)


@admin.register(ChatbotAPIKey)
class ChatbotAPIKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "chatbot"]
    list_filter = ["chatbot", *APIKeyModelAdmin.list_filter]
    search_fields = [*APIKeyModelAdmin.search_fields, "chatbot__chatbot_id"]
    autocomplete_fields = ["chatbot"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # A key never moves to another chatbot.
        return (*fields, "chatbot") if obj else fields


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["chatbot", "purpose", "flow", "updated_at"]
    list_filter = ["purpose", "chatbot"]
    search_fields = ["chatbot__chatbot_id", "template"]
    autocomplete_fields = ["chatbot"]
    readonly_fields = ["default_template", "placeholders"]
    fields = ["chatbot", "purpose", "flow", "template", "placeholders", "default_template"]

    @admin.display(description="Allowed placeholders")
    def placeholders(self, obj: PromptTemplate) -> str:
        return "; ".join(
            f"{purpose}: {', '.join('{' + name + '}' for name in sorted(names))}"
            for purpose, names in ALLOWED_PLACEHOLDERS.items()
        )

    @admin.display(description="Shipped default")
    def default_template(self, obj: PromptTemplate) -> str:
        return DEFAULT_TEMPLATES.get(obj.purpose, "") if obj.pk else "(shown after choosing a purpose)"


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = [
        "created_at",
        "role",
        "text",
        "image",
        "flow",
        "route_reason",
        "status",
        "error_code",
        "sources",
    ]
    readonly_fields = fields
    ordering = ["created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "chatbot", "created_at", "updated_at", "message_count"]
    list_filter = ["chatbot"]
    date_hierarchy = "created_at"
    readonly_fields = ["id", "chatbot", "origin", "created_at", "updated_at"]
    exclude = ["token_hash"]
    inlines = [MessageInline, ImageUploadInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("chatbot")
            .annotate(messages_total=models.Count("messages"))
        )

    @admin.display(description="Messages", ordering="messages_total")
    def message_count(self, obj) -> int:
        return obj.messages_total

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StreamingSession)
class StreamingSessionAdmin(admin.ModelAdmin):
    list_display = ["message_id", "status", "token_count", "event_count", "ttft_ms", "started_at", "ended_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in StreamingSession._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ContextChunk)
class ContextChunkAdmin(admin.ModelAdmin):
    """The knowledge-base chunks answers were grounded in, read-only: written after each answer."""

    list_display = ["message_id", "rank", "chatbot", "index_name", "source", "score"]
    list_filter = ["message__conversation__chatbot", "index_name"]
    list_select_related = ["message__conversation__chatbot"]
    search_fields = ["source", "vector_id"]
    readonly_fields = [f.name for f in ContextChunk._meta.fields]

    @admin.display(description="Chatbot", ordering="message__conversation__chatbot")
    def chatbot(self, obj: ContextChunk):
        return obj.message.conversation.chatbot

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
