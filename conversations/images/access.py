"""Who may upload images, and from which websites.

Integrations use their chatbot's `Api-Key`, staff their admin session, and the chat widget the
visitor's conversation token in `X-Conversation-Token` (the upload then belongs to that
conversation). The widget runs on the shop's site, so the upload endpoint answers CORS requests
from the chatbot's `allowed_origins`, the same list that guards the chat websocket.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, permissions
from rest_framework.request import Request

from chatplatform.errors import ApplicationError
from conversations.auth import IsChatbotIntegrationOrStaff
from conversations.chat.origins import origin_allowed, origin_listed
from conversations.chat.selectors import chatbot_for_chat, conversation_for_token
from conversations.images.messages import image_error
from conversations.models import ChatbotSettings, Conversation

TOKEN_HEADER = "X-Conversation-Token"  # noqa: S105  (a header name, not a secret)
ALLOWED_METHODS = "POST, OPTIONS"
ALLOWED_HEADERS = f"{TOKEN_HEADER}, Content-Type"
PREFLIGHT_MAX_AGE_SECONDS = 600


@dataclass(frozen=True)
class ConversationAccess:
    """`request.auth` of a visitor: the conversation its token opened."""

    conversation: Conversation


class ConversationTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates the widget by its conversation token; `request.auth` is a `ConversationAccess`.

    A token of no conversation of this chatbot is `invalid_conversation_token` (403), a page on a
    website the chatbot does not allow is `origin_not_allowed` (403).
    """

    def authenticate(self, request: Request) -> tuple[None, ConversationAccess] | None:
        token = request.headers.get(TOKEN_HEADER)
        if token is None:
            return None
        context = request.parser_context or {}
        view = context.get("view")
        if hasattr(view, "chatbot"):
            chatbot = view.chatbot  # None for an unknown chatbot: refused as any wrong token
        else:
            chatbot = chatbot_for_chat(chatbot_id=context.get("kwargs", {}).get("chatbot_id", ""))
        if chatbot is None:
            if not origin_allowed(request.headers.get("Origin"), request.get_host(), []):
                raise image_error("origin_not_allowed", language="en")
            raise image_error("invalid_conversation_token", language="en")
        if not origin_allowed(request.headers.get("Origin"), request.get_host(), chatbot.allowed_origins):
            raise image_error("origin_not_allowed", language=chatbot.language)
        try:
            conversation = conversation_for_token(chatbot=chatbot, token=token)
        except ApplicationError:
            raise image_error("invalid_conversation_token", language=chatbot.language) from None
        return (None, ConversationAccess(conversation=conversation))


class IsChatbotIntegrationStaffOrVisitor(permissions.BasePermission):
    """The chatbot's integration key, a staff session, or a visitor's conversation token."""

    message = IsChatbotIntegrationOrStaff.message

    def has_permission(self, request: Request, view: object) -> bool:
        if isinstance(request.auth, ConversationAccess):
            return True  # the token was looked up among this chatbot's conversations
        return IsChatbotIntegrationOrStaff().has_permission(request, view)


def cors_preflight(request: HttpRequest, *, chatbot: ChatbotSettings | None) -> HttpResponse:
    """The answer to a browser's preflight: the allowed method and headers for a listed origin
    (an unknown chatbot lists none)."""
    response = HttpResponse(status=204)
    origin = request.headers.get("Origin")
    if chatbot is not None and origin_listed(origin, chatbot.allowed_origins):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    patch_vary_headers(response, ("Origin",))
    return response


def cors_headers_add(
    response: HttpResponse, *, request: HttpRequest, chatbot: ChatbotSettings | None
) -> None:
    """Let a listed origin's page read the response (errors included, to show their message)."""
    origin = request.headers.get("Origin")
    if chatbot is not None and origin_listed(origin, chatbot.allowed_origins):
        response["Access-Control-Allow-Origin"] = origin
    patch_vary_headers(response, ("Origin",))


class ConversationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "conversations.images.access.ConversationTokenAuthentication"
    name = "ConversationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": TOKEN_HEADER,
            "description": "The chat widget's conversation token, from the websocket's `conversation` event.",
        }
