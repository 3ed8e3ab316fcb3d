"""How many images a chat visitor may upload, per conversation and per address, and an
integration per API key.

The upload endpoint is public to visitors (a conversation token is all it takes, and anyone can
open a conversation), and every upload is stored and described by the vision model, which the
shop pays for. Visitors are limited per conversation and, because new conversations cost
nothing, per address; integrations per key, more generously, so that a leaked or looping key
cannot run up the bill without bound; staff are not limited. A refused upload is answered
`429 rate_limited` with `Retry-After`, before its body is read, its message in the chatbot's
language.
"""

import math

from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.throttling import SimpleRateThrottle

from conversations.images.access import ConversationAccess
from conversations.images.messages import image_message
from conversations.models import ChatbotAPIKey


def uploads_throttled(wait: float | None, *, language: str) -> Throttled:
    """The 429 of a visitor past an upload rate: `Retry-After` from `wait`, the shopper's language."""
    # Built without `wait`: DRF would append an English sentence to the message.
    refused = Throttled(detail=image_message("rate_limited", language=language))
    refused.wait = math.ceil(wait) if wait is not None else None
    return refused


class _VisitorUploads(SimpleRateThrottle):
    setting = ""

    def get_rate(self) -> str:
        # Read at each request (DRF's own rates are read once, at import).
        return getattr(settings, self.setting)

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ConversationAccess):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.visitor(request)}

    def visitor(self, request) -> str:
        raise NotImplementedError


class UploadsPerConversation(_VisitorUploads):
    scope = "visitor_images_conversation"
    setting = "IMAGE_UPLOAD_RATE_PER_CONVERSATION"

    def visitor(self, request) -> str:
        return str(request.auth.conversation.id)


class UploadsPerAddress(_VisitorUploads):
    scope = "visitor_images_address"
    setting = "IMAGE_UPLOAD_RATE_PER_ADDRESS"

    def visitor(self, request) -> str:
        return self.get_ident(request)


class UploadsPerApiKey(SimpleRateThrottle):
    scope = "integration_images_key"

    def get_rate(self) -> str:
        return settings.IMAGE_UPLOAD_RATE_PER_API_KEY

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ChatbotAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
