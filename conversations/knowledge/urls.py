"""Mounted at `/api/v1/chatbots/<chatbot_id>/documents/`."""

from django.urls import path

from conversations.knowledge import api

urlpatterns = [
    path("", api.KnowledgeDocumentListCreateApi.as_view(), name="chatbot-documents"),
    path("<int:document_id>/", api.KnowledgeDocumentDetailApi.as_view(), name="chatbot-document-detail"),
]
