"""Read-only lists of the telemetry rows, with filters."""

from django.contrib import admin

from chatplatform.telemetry.models import CallRecord, DailyAggregate


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CallRecord)
class CallRecordAdmin(_ReadOnly):
    list_display = (
        "started_at",
        "operation",
        "provider",
        "request_model",
        "feature",
        "tenant_id",
        "input_tokens",
        "output_tokens",
        "usage_estimated",
        "ttft_ms",
        "duration_ms",
        "outcome",
        "error_type",
    )
    list_filter = ("operation", "outcome", "feature", "tenant_type", "provider", "usage_estimated", "day")
    search_fields = ("tenant_id", "request_model", "response_model", "error_type")
    date_hierarchy = "started_at"
    show_full_result_count = False  # the table is large; counting it whole is slow on PostgreSQL


@admin.register(DailyAggregate)
class DailyAggregateAdmin(_ReadOnly):
    list_display = (
        "day",
        "tenant_id",
        "feature",
        "operation",
        "model",
        "provider",
        "calls",
        "errors",
        "input_tokens",
        "output_tokens",
        "estimated_cost_usd",
        "latency_p50_ms",
        "latency_p95_ms",
    )
    list_filter = ("operation", "feature", "tenant_type", "provider", "model", "day")
    search_fields = ("tenant_id", "model")
    date_hierarchy = "day"
