"""Knowledge-base documents in admin: upload, list, re-ingest and delete through the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as confirm_delete_selected
from django.contrib.admin.utils import unquote
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.defaultfilters import truncatechars
from django.urls import reverse

from chatplatform.documents.extraction import document_size_check, document_text_extract
from chatplatform.errors import ApplicationError
from conversations.knowledge.services import (
    knowledge_document_create,
    knowledge_document_delete,
    knowledge_document_update,
    knowledge_documents_reingest,
)
from conversations.knowledge.stores import flow_index_name
from conversations.models import KnowledgeDocument


class KnowledgeDocumentUploadForm(forms.ModelForm):
    upload = forms.FileField(
        label="File", help_text="Markdown, text, PDF, DOCX or HTML. A file of the same name replaces it."
    )
    title = forms.CharField(
        max_length=200, required=False, help_text="Empty: the document's first heading or its file name."
    )

    class Meta:
        model = KnowledgeDocument
        fields = ["chatbot", "flow", "title"]

    def clean(self):
        cleaned = super().clean()
        chatbot, flow, upload = cleaned.get("chatbot"), cleaned.get("flow"), cleaned.get("upload")
        # The same checks the upload service makes, so that a refusal is shown next to its field.
        if chatbot and flow:
            try:
                flow_index_name(chatbot, flow)
            except ApplicationError as exc:
                self.add_error("flow", exc.message)
        if upload:
            try:
                document_size_check(name=upload.name, size=upload.size)
                document_text_extract(name=upload.name, data=upload.read())
            except ApplicationError as exc:
                self.add_error("upload", exc.message)
            finally:
                upload.seek(0)
        return cleaned


@admin.register(KnowledgeDocument)
class KnowledgeDocumentAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "chatbot",
        "flow",
        "status",
        "progress",
        "chunk_count",
        "short_error",
        "updated_at",
    ]
    list_filter = ["status", "flow", "chatbot"]
    list_select_related = ["chatbot"]
    search_fields = ["title", "source_name", "chatbot__chatbot_id"]
    actions = ["delete_selected", "reingest"]
    readonly_fields = [
        "chatbot",
        "flow",
        "source_name",
        "file",
        "content_type",
        "size",
        "sha256",
        "status",
        "progress",
        "chunk_count",
        "error",
        "indexed_in",
        "indexed_chunks",
        "embedding_model",
        "created_at",
        "updated_at",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = KnowledgeDocumentUploadForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["chatbot", "flow", "title", "upload"]
        return ["title", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    @admin.display(description="Error")
    def short_error(self, obj: KnowledgeDocument) -> str:
        return truncatechars(obj.error, 80)

    def save_model(self, request, obj, form, change):
        if change:
            document = knowledge_document_update(document=obj, title=form.cleaned_data["title"])
        else:
            document = knowledge_document_create(
                chatbot=form.cleaned_data["chatbot"],
                flow=form.cleaned_data["flow"],
                uploaded_file=form.cleaned_data["upload"],
                title=form.cleaned_data.get("title") or "",
            )
        # The admin goes on with `obj` (log entry, redirect); make it the stored document.
        for field in KnowledgeDocument._meta.concrete_fields:
            setattr(obj, field.attname, getattr(document, field.attname))
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # No related objects; the upload form is never saved as a model form.
        return

    def delete_model(self, request, obj):
        knowledge_document_delete(document=obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ApplicationError as exc:
            # The deletion ran in a transaction that is rolled back, log entry included.
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:conversations_knowledgedocument_change", args=[unquote(object_id)])
            )

    @admin.action(permissions=["delete"], description="Delete selected documents and their vectors")
    def delete_selected(self, request, queryset):
        """Django's confirmation page, then each document through the delete service."""
        if not request.POST.get("post"):
            return confirm_delete_selected(self, request, queryset)
        deleted = 0
        for document in queryset.select_related("chatbot"):
            try:
                with transaction.atomic():
                    self.log_deletions(request, [document])
                    knowledge_document_delete(document=document)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                deleted += 1
        if deleted:
            self.message_user(request, f"Deleted {deleted} document(s) and their vectors.", messages.SUCCESS)
        return None

    @admin.action(permissions=["change"], description="Re-ingest")
    def reingest(self, request, queryset):
        count = knowledge_documents_reingest(documents=queryset)
        self.message_user(request, f"Queued {count} document(s) for ingestion.", messages.SUCCESS)
