"""Image uploads in admin: per chatbot, with a thumbnail, the description, size and conversation.

Uploads are read-only here (they come from shoppers); deleting one deletes its file too. The
pictures are served to staff through an admin view that reads the storage, so thumbnails work
with any storage backend and no uploaded image is public.
"""

from __future__ import annotations

import uuid

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.template.defaultfilters import filesizeformat, truncatechars
from django.urls import path, reverse
from django.utils.html import format_html

from conversations.images.services import image_upload_delete
from conversations.images.validation import FORMATS
from conversations.models import ImageUpload

THUMBNAIL_PIXELS = 80
PREVIEW_PIXELS = 480


def image_file_url(upload: ImageUpload) -> str:
    return reverse("admin:conversations_imageupload_file", args=[upload.pk])


def _image_tag(upload: ImageUpload, pixels: int) -> str:
    if not upload.file:
        return "-"
    return format_html(
        '<img src="{}" alt="{}" loading="lazy" style="max-width:{}px;max-height:{}px;object-fit:contain">',
        image_file_url(upload),
        f"{upload.format} {upload.width} x {upload.height}",
        pixels,
        pixels,
    )


class ImageFactsMixin:
    """Columns shared by the upload list and the conversation's inline."""

    @admin.display(description="Image")
    def thumbnail(self, obj: ImageUpload) -> str:
        return _image_tag(obj, THUMBNAIL_PIXELS)

    @admin.display(description="Dimensions")
    def dimensions(self, obj: ImageUpload) -> str:
        frames = f", {obj.frames} frames" if obj.frames > 1 else ""
        return f"{obj.width} x {obj.height}{frames}"

    @admin.display(description="Size", ordering="size")
    def file_size(self, obj: ImageUpload) -> str:
        return filesizeformat(obj.size)


@admin.register(ImageUpload)
class ImageUploadAdmin(ImageFactsMixin, admin.ModelAdmin):
    list_display = [
        "thumbnail",
        "chatbot",
        "format",
        "dimensions",
        "file_size",
        "short_description",
        "description_status",
        "conversation_link",
        "created_at",
    ]
    list_filter = ["chatbot", "format", "description_status"]
    list_select_related = ["chatbot", "conversation"]
    search_fields = ["description", "chatbot__chatbot_id"]
    date_hierarchy = "created_at"
    fields = [
        "preview",
        "chatbot",
        "conversation_link",
        "format",
        "dimensions",
        "file_size",
        "stored_name",
        "description",
        "description_status",
        "description_error",
        "description_ms",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="Description")
    def short_description(self, obj: ImageUpload) -> str:
        return truncatechars(obj.description, 120) or obj.description_error or "-"

    @admin.display(description="Conversation", ordering="conversation")
    def conversation_link(self, obj: ImageUpload) -> str:
        if obj.conversation_id is None:
            return "-"
        url = reverse("admin:conversations_conversation_change", args=[obj.conversation_id])
        return format_html('<a href="{}">{}</a>', url, obj.conversation)

    @admin.display(description="Stored as")
    def stored_name(self, obj: ImageUpload) -> str:
        return obj.file.name

    @admin.display(description="Image")
    def preview(self, obj: ImageUpload) -> str:
        return _image_tag(obj, PREVIEW_PIXELS)

    def get_urls(self):
        view = self.admin_site.admin_view(self.file_view)
        return [
            path("<uuid:upload_id>/file/", view, name="conversations_imageupload_file"),
            *super().get_urls(),
        ]

    def file_view(self, request: HttpRequest, upload_id: uuid.UUID) -> FileResponse:
        """The stored picture, for staff who may view uploads."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        upload = ImageUpload.objects.filter(pk=upload_id).first()
        if upload is None or not upload.file:
            raise Http404
        try:
            stored = upload.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(stored, content_type=FORMATS[upload.format][0])
        response["Cache-Control"] = "private, max-age=3600"
        return response

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImageUpload | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: ImageUpload) -> None:
        image_upload_delete(upload=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ImageUpload]) -> None:
        for upload in queryset:
            image_upload_delete(upload=upload)


class ImageUploadInline(ImageFactsMixin, admin.TabularInline):
    """A conversation's images with their descriptions, for `ConversationAdmin.inlines`."""

    model = ImageUpload
    fk_name = "conversation"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "thumbnail",
        "format",
        "dimensions",
        "file_size",
        "description",
        "description_status",
        "description_ms",
        "created_at",
    ]
    readonly_fields = fields
    ordering = ["created_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
