from django.urls import path

from analytics import api

urlpatterns = [
    path("analytics/dashboard/", api.DashboardApi.as_view(), name="analytics-dashboard"),
    path("analytics/flows/", api.FlowsApi.as_view(), name="analytics-flows"),
    path("analytics/conversations/", api.ConversationsApi.as_view(), name="analytics-conversations"),
]
