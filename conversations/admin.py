from django import forms
from django.contrib import admin, messages
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from chatplatform.admin_forms import LinesField, SecretFormMixin, SecretReplaceField, secret_hint
from conversations.models import ChatbotAPIKey, ChatbotSettings
from conversations.services import chatbot_pinecone_check

# Keys must belong to a chatbot; the library's generic key model has no place here.
admin.site.unregister(APIKey)


class ChatbotSettingsForm(SecretFormMixin):
    secret_fields = ("pinecone_api_key",)

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


@admin.register(ChatbotSettings)
class ChatbotSettingsAdmin(admin.ModelAdmin):
    form = ChatbotSettingsForm
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
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The id is part of URLs and integrations; it is set once.
        return [*self.readonly_fields, "chatbot_id"] if obj else self.readonly_fields

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
