"""Staff's view of the tutor: learners' sessions, documents, passages and interaction log, and
the analytics page (documents' processing, the embedding queue, tokens and cost) with charts.

Learners are plain users: staff create them under Authentication and Authorization > Users (or
with `manage.py create_learner`).
"""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from tutor import charts
from tutor.models import Chunk, Document, InteractionLog, StudySession
from tutor.staff_analytics import Window, tutor_analytics


@admin.register(StudySession)
class StudySessionAdmin(admin.ModelAdmin):
    list_display = ("title", "learner", "created_at", "updated_at", "archived_at")
    list_filter = (("archived_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("title", "learner__username")
    raw_id_fields = ("learner",)
    date_hierarchy = "created_at"


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = (
        "filename",
        "session",
        "kind",
        "size_bytes",
        "pages",
        "language",
        "status",
        "progress",
        "error_code",
        "created_at",
    )
    list_filter = ("status", "kind", "error_code", "language", "created_at")
    search_fields = ("filename", "checksum", "session__title", "session__learner__username")
    raw_id_fields = ("session",)
    readonly_fields = ("checksum", "size_bytes", "started_at", "finished_at", "created_at")
    date_hierarchy = "created_at"
    change_list_template = "admin/tutor/document/change_list.html"

    def get_urls(self):
        analytics = path(
            "analytics/",
            self.admin_site.admin_view(self.analytics_view),
            name="tutor_document_analytics",
        )
        return [analytics, *super().get_urls()]

    def analytics_view(self, request):
        try:
            days = min(366, max(1, int(request.GET.get("days", 30))))
        except ValueError:
            days = 30
        data = tutor_analytics(Window.last_days(days))
        documents = data["documents"]
        context = {
            **self.admin_site.each_context(request),
            "title": "Tutor analytics",
            "days": days,
            "data": data,
            "charts": [
                charts.column_chart(
                    "Uploads per day", [(d["day"], d["uploads"]) for d in documents["per_day"]]
                ),
                charts.bar_chart("Documents by type", list(documents["by_kind"].items())),
                charts.bar_chart("Documents by status", list(documents["by_status"].items())),
                charts.bar_chart(
                    "Processing time (ms)",
                    [(k, v) for k, v in documents["processing_ms"].items() if k != "count" and v is not None],
                    unit=" ms",
                ),
                charts.bar_chart("Failures by error code", list(documents["errors"].items())),
                charts.bar_chart("Passages by embedding status", list(data["embeddings"].items())),
                charts.bar_chart(
                    "Tokens by feature",
                    [
                        (f"{g['feature']} {g['model']}", g["input_tokens"] + g["output_tokens"])
                        for g in data["usage"]["by_feature"]
                    ],
                ),
            ],
        }
        return TemplateResponse(request, "admin/tutor/analytics.html", context)


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "document",
        "position",
        "embedding_status",
        "embedding_attempts",
        "embedding_error",
    )
    list_filter = ("embedding_status", "embedding_model")
    raw_id_fields = ("document", "session")
    exclude = ("embedding",)
    readonly_fields = ("embedding_claimed_at", "embedding_next_at", "embedding_model")
    show_full_result_count = False


@admin.register(InteractionLog)
class InteractionLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "learner", "kind", "session_link")
    list_filter = ("kind", "created_at")
    search_fields = ("learner__username", "kind")
    raw_id_fields = ("learner", "session")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="session")
    def session_link(self, log):
        if log.session_id is None:
            return "-"
        url = reverse("admin:tutor_studysession_change", args=[log.session_id])
        return format_html('<a href="{}">{}</a>', url, log.session_id)
