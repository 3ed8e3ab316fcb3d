from django.urls import path

from conversations.chat.consumer import ChatConsumer

websocket_urlpatterns = [
    path("ws/chat/<slug:chatbot_id>/", ChatConsumer.as_asgi()),
]
