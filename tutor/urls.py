"""The tutor's API, mounted at `/api/v1/`: learners' tokens, study sessions and documents.

The content and learning parts add their own url modules under `/api/v1/tutor/`.
"""

from django.urls import include, path

from tutor import auth_api, sessions_api, staff_api
from tutor.documents import api as documents_api

SESSION = "tutor/sessions/<int:session_id>/"

urlpatterns = [
    path("auth/token/", auth_api.TokenCreateApi.as_view(), name="auth-token"),
    path("auth/token/revoke/", auth_api.TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("tutor/staff/analytics/", staff_api.StaffAnalyticsApi.as_view(), name="tutor-staff-analytics"),
    path("tutor/sessions/", sessions_api.SessionListCreateApi.as_view(), name="tutor-sessions"),
    path(SESSION, sessions_api.SessionDetailApi.as_view(), name="tutor-session"),
    path(f"{SESSION}archive/", sessions_api.SessionArchiveApi.as_view(), name="tutor-session-archive"),
    path(f"{SESSION}documents/", documents_api.DocumentListCreateApi.as_view(), name="tutor-documents"),
    path(
        f"{SESSION}documents/<int:document_id>/",
        documents_api.DocumentDetailApi.as_view(),
        name="tutor-document",
    ),
]

# The content and learning parts' urls, under /api/v1/tutor/.
urlpatterns += [
    path("tutor/", include("tutor.content.urls")),
    path("tutor/", include("tutor.learning.urls")),
]
