"""Reads of image uploads for the chat pipeline."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from conversations.images.messages import image_error
from conversations.models import ChatbotSettings, ImageUpload


def image_for_message(
    *, chatbot: ChatbotSettings, conversation_id: uuid.UUID | str, image_id: uuid.UUID | str
) -> ImageUpload:
    """The upload a chat message references by `image_id`, or `image_not_found` (404).

    It must belong to the chatbot and either to this conversation (widget uploads) or to no
    conversation (an integration's upload without `conversation_id`), and not be past its
    retention period. A malformed id is simply not found.
    """
    try:
        image_uuid = uuid.UUID(str(image_id))
        conversation_uuid = uuid.UUID(str(conversation_id))
    except ValueError:
        raise image_error("image_not_found", language=chatbot.language) from None
    cutoff = timezone.now() - timedelta(days=settings.IMAGE_RETENTION_DAYS)
    upload = (
        ImageUpload.objects.filter(pk=image_uuid, chatbot=chatbot, created_at__gte=cutoff)
        .filter(Q(conversation_id=conversation_uuid) | Q(conversation__isnull=True))
        .first()
    )
    if upload is None:
        raise image_error("image_not_found", language=chatbot.language)
    return upload
