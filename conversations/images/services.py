"""Write paths of image uploads: upload (validate, re-encode, store, describe), describe, delete,
and the retention clean-up.

A refused file leaves nothing behind: it is validated completely before anything is written. A
stored image whose description fails is kept (status `failed` and the provider's error code), so
the shopper's message can still reference it.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone

from chatplatform import telemetry
from chatplatform.ai import get_chat_provider
from chatplatform.ai.base import ProviderError
from conversations.chat.services import conversation_store
from conversations.images.messages import image_error
from conversations.images.validation import (
    FORMATS,
    CleanImage,
    ImageRefused,
    image_clean,
    image_size_check,
)
from conversations.models import ChatbotSettings, Conversation, ImageUpload, PromptTemplate
from conversations.prompts import prompt_render, prompt_template_text

__all__ = [
    "DESCRIPTION_FAILED",
    "image_describe",
    "image_prompt_context",
    "image_upload_create",
    "image_upload_delete",
    "images_delete_expired",
]

logger = logging.getLogger(__name__)

# The error code of a description that failed for a reason other than a provider error.
DESCRIPTION_FAILED = "description_failed"
_DELETE_BATCH = 500

_Status = ImageUpload.Status


def image_storage() -> Storage:
    """Where images are stored: the storage of the model's file field (Django's default)."""
    return ImageUpload._meta.get_field("file").storage


def image_upload_create(
    *,
    chatbot: ChatbotSettings,
    conversation: Conversation | None = None,
    uploaded_file: File,
    describe: bool = True,
) -> ImageUpload:
    """Validate an uploaded image, store a clean copy and describe it.

    Refusals are `ApplicationError`s with the codes `file_too_large` (413), `unsupported_type`
    (415), `image_corrupt` and `image_too_large_dimensions` (400), their message in the chatbot's
    language. The copy is stored under `images/<chatbot_id>/<random>.<ext>`; the uploaded name
    and declared type are never used. The description is made synchronously and timed in
    `description_ms`; with `describe=False` it stays `pending` for the caller to run
    `image_describe`.
    """
    try:
        image_size_check(uploaded_file.size or 0)
        uploaded_file.seek(0)
        # A file object may report a wrong size; never read more than one byte over the limit.
        data = uploaded_file.read(settings.IMAGE_MAX_UPLOAD_BYTES + 1)
        clean = image_clean(data)
    except ImageRefused as refused:
        raise image_error(refused.reason, language=chatbot.language, **refused.params) from None
    if conversation is not None:
        conversation_store(conversation)  # the widget's token of a chat without a message yet
    upload = _image_store(chatbot=chatbot, conversation=conversation, clean=clean)
    if describe:
        image_describe(upload=upload, image=clean.data)
    return upload


def _image_store(
    *, chatbot: ChatbotSettings, conversation: Conversation | None, clean: CleanImage
) -> ImageUpload:
    storage = image_storage()
    name = storage.save(
        f"images/{chatbot.chatbot_id}/{secrets.token_urlsafe(18)}.{clean.extension}", ContentFile(clean.data)
    )
    try:
        with transaction.atomic():
            return ImageUpload.objects.create(
                chatbot=chatbot,
                conversation=conversation,
                file=name,
                format=clean.format,
                width=clean.width,
                height=clean.height,
                size=len(clean.data),
                frames=clean.frames,
            )
    except BaseException:
        # No row, no file: an upload is stored completely or not at all.
        storage.delete(name)
        raise


def image_describe(*, upload: ImageUpload, image: bytes | None = None) -> ImageUpload:
    """Describe a stored image with the chat provider's vision and save the outcome.

    The prompt is the chatbot's `image_description` template (staff-editable, cached) rendered
    with `chatbot_name` and `language`. A provider failure (after the provider's own retries)
    does not raise: the upload is saved with status `failed` and the error code in
    `description_error`. The time the description took is saved in `description_ms`.
    """
    chatbot = upload.chatbot
    if image is None:
        with upload.file.open("rb") as stored:
            image = stored.read()
    template = prompt_template_text(chatbot_pk=chatbot.pk, purpose=PromptTemplate.Purpose.IMAGE_DESCRIPTION)
    prompt = prompt_render(template, chatbot_name=chatbot.name, language=chatbot.language)
    describe = async_to_sync(get_chat_provider().describe_image)
    started = time.perf_counter()
    try:
        with telemetry.context(tenant_type="chatbot", tenant_id=chatbot.chatbot_id, feature="vision"):
            description = describe(
                image=image, mime_type=FORMATS[upload.format][0], prompt=prompt, language=chatbot.language
            )
    except ProviderError as exc:
        logger.warning("Image %s was not described: %s", upload.pk, exc)
        upload.description, upload.description_status, upload.description_error = "", _Status.FAILED, exc.code
    except Exception:
        # The upload is still usable without a description; the traceback is for staff.
        logger.exception("Image %s was not described", upload.pk)
        upload.description, upload.description_status = "", _Status.FAILED
        upload.description_error = DESCRIPTION_FAILED
    else:
        upload.description, upload.description_status, upload.description_error = (
            description.strip(),
            _Status.READY,
            "",
        )
    upload.description_ms = round((time.perf_counter() - started) * 1000, 2)
    upload.save(update_fields=["description", "description_status", "description_error", "description_ms"])
    return upload


def image_prompt_context(*, upload: ImageUpload) -> str:
    """The lines the chat pipeline adds to the context of a message that references `upload`."""
    facts = f"{upload.format}, {upload.width} x {upload.height} pixels"
    if upload.description_status == _Status.READY and upload.description:
        return f"The customer attached an image ({facts}). Description of the image:\n{upload.description}"
    return (
        f"The customer attached an image ({facts}), but it could not be described; ask the customer "
        "what it shows if that matters for the answer."
    )


def image_upload_delete(*, upload: ImageUpload) -> None:
    """Delete an upload's stored file, then the upload (messages keep their text, lose the link)."""
    if upload.file.name:
        image_storage().delete(upload.file.name)
    upload.delete()


def images_delete_expired(*, now: datetime | None = None) -> int:
    """Delete the images (files and rows) older than `IMAGE_RETENTION_DAYS`; return how many.

    Files go first: a file whose deletion fails keeps its row, so the next run tries again, and a
    row never points at a file that is still there after the row is gone.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.IMAGE_RETENTION_DAYS)
    storage = image_storage()
    deleted = 0
    while True:
        batch = list(
            ImageUpload.objects.filter(created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("pk", "file")[:_DELETE_BATCH]
        )
        if not batch:
            return deleted
        for _, name in batch:
            if name:
                storage.delete(name)
        _, per_model = ImageUpload.objects.filter(pk__in=[pk for pk, _ in batch]).delete()
        deleted += per_model.get(ImageUpload._meta.label, 0)
        if len(batch) < _DELETE_BATCH:
            return deleted
