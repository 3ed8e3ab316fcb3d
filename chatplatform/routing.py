"""Websocket routes of every app, mounted by `chatplatform.asgi`."""

websocket_urlpatterns: list = []
