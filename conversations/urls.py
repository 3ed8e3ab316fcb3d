from django.urls import path

from conversations import api

urlpatterns = [
    path("chatbots/<slug:chatbot_id>/", api.ChatbotDetailApi.as_view(), name="chatbot-detail"),
]
