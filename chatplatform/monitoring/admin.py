from django.contrib import admin
from django.template.response import TemplateResponse

from chatplatform.monitoring.models import CurrentHealth, HealthSnapshot
from chatplatform.monitoring.services import health_state_read


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(admin.ModelAdmin):
    list_display = (
        "taken_at",
        "status",
        "problems_text",
        "workers",
        "queued",
        "last_beat_run_at",
        "error_rate_text",
        "active_chats",
    )
    list_filter = ("status",)
    date_hierarchy = "taken_at"
    ordering = ("-taken_at",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="problems")
    def problems_text(self, snapshot: HealthSnapshot) -> str:
        return "; ".join(snapshot.problems) or "-"

    @admin.display(description="queued")
    def queued(self, snapshot: HealthSnapshot) -> str:
        return ", ".join(
            f"{queue} {'?' if count is None else count}" for queue, count in snapshot.queue_depth.items()
        )

    @admin.display(description="error rate")
    def error_rate_text(self, snapshot: HealthSnapshot) -> str:
        return "-" if snapshot.error_rate is None else f"{snapshot.error_rate:.1%}"


@admin.register(CurrentHealth)
class CurrentHealthAdmin(admin.ModelAdmin):
    """The checks run live when the page opens (a few seconds: the workers have to reply)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        state = health_state_read()
        context = {
            **self.admin_site.each_context(request),
            "title": "Current state",
            "opts": self.model._meta,
            "state": state,
            "status": str(state.status),
            "checks": sorted(state.checks.items()),
            "queues": sorted(state.queue_depth.items()),
            "facts": sorted(state.facts.items()),
        }
        return TemplateResponse(request, "admin/monitoring/current_state.html", context)
