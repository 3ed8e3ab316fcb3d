"""The admin's analytics pages: the dashboards (admin index → Analytics → Dashboards, and a link on
each chatbot's page) with charts drawn by the vendored Chart.js, and the latency waterfall on each
conversation's page.

The chatbot and conversation admins belong to the conversations app, which does not import this
one: the link and the waterfall are added to their registered instances from here.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from analytics.drilldown import drilldown_url
from analytics.models import AnalyticsDashboard
from analytics.selectors import dashboard
from analytics.waterfall import conversation_waterfall
from analytics.windows import DEFAULT_RANGE, RANGES, window_resolve
from chatplatform.errors import ApplicationError
from conversations.models import ChatbotSettings, Conversation

# Admin users read every chatbot: the dashboards are for staff, like the API's session access.


@admin.register(AnalyticsDashboard)
class AnalyticsDashboardAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def get_urls(self):
        view = self.admin_site.admin_view(self.dashboard_view)
        return [path("<slug:chatbot_id>/", view, name="analytics_dashboard"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        """The chatbots, each linking to its dashboard."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Analytics dashboards",
            "opts": self.model._meta,
            "chatbots": ChatbotSettings.objects.order_by("chatbot_id").values(
                "chatbot_id", "name", "is_active"
            ),
        }
        return TemplateResponse(request, "admin/analytics/dashboards.html", context)

    def dashboard_view(self, request, chatbot_id: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        chatbot = get_object_or_404(ChatbotSettings, chatbot_id=chatbot_id)
        range_name = request.GET.get("range", "30d")
        if range_name not in RANGES:
            range_name = DEFAULT_RANGE
        try:
            window = window_resolve(range_name, None, None)
        except ApplicationError:  # pragma: no cover  (a known range always resolves)
            window = window_resolve(DEFAULT_RANGE, None, None)
        figures = dashboard(chatbot, window)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Analytics: {chatbot.name}",
            "opts": self.model._meta,
            "chatbot": chatbot,
            "range": range_name,
            "ranges": list(RANGES),
            "figures": figures,
            "export_url": drilldown_url(chatbot, window, format="csv"),
        }
        return TemplateResponse(request, "admin/analytics/dashboard.html", context)


def _dashboard_link(chatbot: ChatbotSettings) -> str:
    if chatbot is None or not chatbot.pk:
        return "-"
    url = reverse("admin:analytics_dashboard", args=[chatbot.chatbot_id])
    return format_html('<a href="{}">Analytics dashboard</a>', url)


_dashboard_link.short_description = "analytics"


def _latency_waterfall(conversation: Conversation) -> str:
    if conversation is None or not conversation.pk:
        return "-"
    return conversation_waterfall(conversation.pk)


_latency_waterfall.short_description = "latency waterfall"


def dashboard_links_register() -> None:
    """Add the dashboard link to the chatbots' admin and the waterfall to the conversations'."""
    chatbot_admin = admin.site._registry.get(ChatbotSettings)
    if chatbot_admin is not None and not hasattr(chatbot_admin, "analytics_dashboard"):
        chatbot_admin.analytics_dashboard = _dashboard_link
        chatbot_admin.readonly_fields = [*chatbot_admin.readonly_fields, "analytics_dashboard"]
        chatbot_admin.list_display = [*chatbot_admin.list_display, "analytics_dashboard"]
        if chatbot_admin.fieldsets:
            chatbot_admin.fieldsets = [
                *chatbot_admin.fieldsets,
                ("Analytics", {"fields": ["analytics_dashboard"]}),
            ]
    conversation_admin = admin.site._registry.get(Conversation)
    if conversation_admin is not None and not hasattr(conversation_admin, "latency_waterfall"):
        conversation_admin.latency_waterfall = _latency_waterfall
        conversation_admin.readonly_fields = [*conversation_admin.readonly_fields, "latency_waterfall"]


dashboard_links_register()
