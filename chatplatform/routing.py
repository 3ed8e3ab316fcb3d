"""Websocket routes of every app, mounted by `chatplatform.asgi`."""

from conversations.chat.routing import websocket_urlpatterns as conversation_routes

websocket_urlpatterns = [*conversation_routes]
