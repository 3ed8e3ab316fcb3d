"""Learning events and analytics; included from tutor/urls.py under /api/v1/tutor/."""

from django.urls import path

from tutor.learning import api

urlpatterns = [
    path(
        "sessions/<int:session_id>/events/quiz-attempts/",
        api.QuizAttemptListCreateApi.as_view(),
        name="tutor-quiz-attempts",
    ),
    path(
        "sessions/<int:session_id>/events/summaries/",
        api.SummaryListCreateApi.as_view(),
        name="tutor-summaries",
    ),
    path("sessions/<int:session_id>/logs/", api.InteractionLogListApi.as_view(), name="tutor-logs"),
    path(
        "sessions/<int:session_id>/analytics/",
        api.SessionAnalyticsApi.as_view(),
        name="tutor-session-analytics",
    ),
    path(
        "sessions/<int:session_id>/analytics/refresh/",
        api.SessionAnalyticsRefreshApi.as_view(),
        name="tutor-session-analytics-refresh",
    ),
    path("me/analytics/", api.LearnerAnalyticsApi.as_view(), name="tutor-learner-analytics"),
]
