"""The tutor content API under /api/v1/tutor/ (included from tutor/urls.py)."""

from django.urls import path

from tutor.content import api

SESSION = "sessions/<int:session_id>/"

urlpatterns = [
    path(f"{SESSION}analysis/", api.AnalysisApi.as_view(), name="tutor-analysis"),
    path(f"{SESSION}lesson/", api.LessonApi.as_view(), name="tutor-lesson"),
    path(f"{SESSION}quiz/", api.QuizApi.as_view(), name="tutor-quiz"),
]
