from django.urls import include, path

from conversations import api
from conversations.chat import api as chat_api

urlpatterns = [
    path("chatbots/<slug:chatbot_id>/", api.ChatbotDetailApi.as_view(), name="chatbot-detail"),
    path("chatbots/<slug:chatbot_id>/documents/", include("conversations.knowledge.urls")),
    path("chatbots/<slug:chatbot_id>/images/", include("conversations.images.urls")),
    path(
        "chatbots/<slug:chatbot_id>/conversations/",
        chat_api.ConversationCreateApi.as_view(),
        name="conversation-create",
    ),
    path(
        "chatbots/<slug:chatbot_id>/conversations/<str:conversation_id>/",
        chat_api.ConversationDetailApi.as_view(),
        name="conversation-detail",
    ),
    path(
        "chatbots/<slug:chatbot_id>/conversations/<str:conversation_id>/messages/",
        chat_api.MessageCreateApi.as_view(),
        name="message-create",
    ),
]
