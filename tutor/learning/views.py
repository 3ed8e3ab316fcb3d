"""The study page at /tutor/: a small client of the tutor's API for trying it in a browser.

The page holds no data of its own; it logs in through /api/v1/auth/token/ and keeps the token in
the tab's sessionStorage, so that closing the tab logs out."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def study_page(request: HttpRequest) -> HttpResponse:
    return render(request, "tutor_learning/study.html")
