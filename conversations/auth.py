"""Per-chatbot integration keys: `Authorization: Api-Key <key>` grants access to one chatbot only."""

from rest_framework import authentication, exceptions, permissions
from rest_framework_api_key.permissions import KeyParser

from conversations.models import ChatbotAPIKey


class ChatbotAPIKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates an integration; `request.auth` becomes its `ChatbotAPIKey`."""

    keyword = KeyParser.keyword

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith(f"{self.keyword} "):
            return None
        key = KeyParser().get(request)
        if not key:
            raise exceptions.AuthenticationFailed()
        try:
            api_key = ChatbotAPIKey.objects.get_from_key(key)
        except ChatbotAPIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed() from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed()
        return (None, api_key)

    def authenticate_header(self, request) -> str:
        return self.keyword


class IsChatbotIntegrationOrStaff(permissions.BasePermission):
    """The key's chatbot must be the one in the URL; staff sessions may see every chatbot."""

    message = "This API key does not grant access to this chatbot."

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ChatbotAPIKey):
            return request.auth.chatbot.chatbot_id == view.kwargs.get("chatbot_id")
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


INTEGRATION_AUTHENTICATION = [ChatbotAPIKeyAuthentication, authentication.SessionAuthentication]
INTEGRATION_PERMISSIONS = [IsChatbotIntegrationOrStaff]
