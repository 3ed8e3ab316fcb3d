"""The study page; included from chatplatform/urls.py at /tutor/."""

from django.urls import path

from tutor.learning import views

urlpatterns = [path("", views.study_page, name="tutor-study")]
