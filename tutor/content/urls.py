"""The tutor content API under /api/v1/tutor/ (included from tutor/urls.py)."""

urlpatterns: list = []
