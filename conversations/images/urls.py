"""Mounted at `/api/v1/chatbots/<chatbot_id>/images/`."""

from django.urls import path

from conversations.images import api

urlpatterns = [
    path("", api.ImageUploadCreateApi.as_view(), name="chatbot-images"),
]
