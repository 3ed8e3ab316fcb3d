"""REST: `POST /api/v1/chatbots/<chatbot_id>/images/` (multipart `file`), for integrations (their
`Api-Key`, optionally with `conversation_id`), staff, and the chat widget (`X-Conversation-Token`).

The size limit is enforced before the body is read: a request that declares more than the limit
(plus room for the multipart framing) is refused from its headers, and while a body without a
trustworthy length is parsed, the upload handler stops at the first byte over the limit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatplatform.errors import ApplicationError
from chatplatform.openapi import CHATBOT_ERRORS, api_errors
from conversations.auth import ChatbotAPIKeyAuthentication
from conversations.chat.selectors import chatbot_for_chat, conversation_get
from conversations.images.access import (
    TOKEN_HEADER,
    ConversationAccess,
    ConversationTokenAuthentication,
    IsChatbotIntegrationStaffOrVisitor,
    cors_headers_add,
    cors_preflight,
)
from conversations.images.messages import image_error
from conversations.images.services import image_upload_create
from conversations.images.throttles import (
    UploadsPerAddress,
    UploadsPerApiKey,
    UploadsPerConversation,
    uploads_throttled,
)
from conversations.images.validation import ImageRefused, file_too_large, upload_declared_size_check
from conversations.models import ChatbotSettings, ImageUpload
from conversations.selectors import chatbot_not_found

DEFAULT_LANGUAGE = "en"  # of the refusals for a chatbot that does not exist


def _chatbot_or_none(chatbot_id: str) -> ChatbotSettings | None:
    try:
        return chatbot_for_chat(chatbot_id=chatbot_id)
    except ApplicationError:
        return None


class ImageUploadLimitHandler(FileUploadHandler):
    """Counts the file bytes of a multipart body and refuses the first one over the limit."""

    def __init__(self, request: HttpRequest | None = None, *, language: str) -> None:
        super().__init__(request)
        self.language = language
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        # Counted over all files of the request, so many files cannot add up to more.
        self.received += len(raw_data)
        if self.received > settings.IMAGE_MAX_UPLOAD_BYTES:
            refused = file_too_large()
            raise image_error(refused.reason, language=self.language, **refused.params)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@extend_schema_serializer(component_name="ImageUpload")
class ImageUploadOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImageUpload
        fields = ["id", "format", "width", "height", "size", "description", "description_status"]
        extra_kwargs = {
            "format": {"help_text": "Format of the stored copy: JPEG, PNG, GIF or WEBP."},
            "description_status": {"help_text": "`ready`, or `failed` when the AI could not describe it."},
        }


_ERRORS = api_errors(
    400,
    *CHATBOT_ERRORS,
    413,
    415,
    429,
    notes={
        400: "Or `image_corrupt`, `image_too_large_dimensions`.",
        403: "Or the conversation token is wrong (`invalid_conversation_token`), or the page's origin "
        "is not allowed (`origin_not_allowed`). An unknown chatbot answers so too (staff: 404).",
        404: "Staff only; or no such conversation (`conversation_not_found`).",
        413: "Or larger than IMAGE_MAX_UPLOAD_BYTES (`file_too_large`).",
        415: "Or not a JPEG, PNG, GIF or WebP image by its content (`unsupported_type`).",
        429: "A visitor past IMAGE_UPLOAD_RATE_PER_CONVERSATION or _PER_ADDRESS.",
    },
)


class ImageUploadCreateApi(APIView):
    """Validate, store and describe an image a shopper sends; reference it as `image_id`."""

    authentication_classes = [
        ChatbotAPIKeyAuthentication,
        ConversationTokenAuthentication,
        SessionAuthentication,
    ]
    permission_classes = [IsChatbotIntegrationStaffOrVisitor]
    throttle_classes = [UploadsPerConversation, UploadsPerAddress, UploadsPerApiKey]
    parser_classes = [MultiPartParser]
    chatbot: ChatbotSettings | None = None

    @extend_schema_serializer(component_name="ImageUploadRequest")
    class InputSerializer(serializers.Serializer):
        # Empty files are let through so that they are refused with `unsupported_type`.
        file = serializers.FileField(
            allow_empty_file=True, help_text="A JPEG, PNG, GIF or WebP image of at most 10 MB (configurable)."
        )
        conversation_id = serializers.UUIDField(
            required=False,
            help_text="Integrations: the conversation the image belongs to. With a conversation token "
            "the image always belongs to the token's conversation.",
        )

    OutputSerializer = ImageUploadOutputSerializer

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            # An unknown chatbot's preflight is that of a chatbot that lists no origin.
            return cors_preflight(request, chatbot=_chatbot_or_none(kwargs["chatbot_id"]))
        response = super().dispatch(request, *args, **kwargs)
        cors_headers_add(response, request=request, chatbot=self.chatbot)
        return response

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before authentication: a session's CSRF check may read the form, that is the body.
        # An unknown chatbot goes on to authentication: the caller gets the 401 or 403 of any
        # chatbot it has no access to, so the endpoint does not tell which ids exist (staff,
        # who may see every chatbot, get its 404 below).
        self.chatbot = _chatbot_or_none(kwargs["chatbot_id"])
        language = self.chatbot.language if self.chatbot is not None else DEFAULT_LANGUAGE
        try:
            upload_declared_size_check(request.META.get("CONTENT_LENGTH"))
        except ImageRefused as refused:
            raise image_error(refused.reason, language=language, **refused.params) from None
        request._request.upload_handlers.insert(0, ImageUploadLimitHandler(language=language))
        super().initial(request, *args, **kwargs)
        if self.chatbot is None:
            raise chatbot_not_found(kwargs["chatbot_id"])

    def throttled(self, request: Request, wait: float | None) -> None:
        language = self.chatbot.language if self.chatbot is not None else DEFAULT_LANGUAGE
        raise uploads_throttled(wait, language=language)

    @extend_schema(
        operation_id="chatbot_images_create",
        request={"multipart/form-data": InputSerializer},
        parameters=[
            OpenApiParameter(
                TOKEN_HEADER,
                location=OpenApiParameter.HEADER,
                required=False,
                description="The chat widget's conversation token, instead of an API key.",
            )
        ],
        responses={201: OpenApiResponse(OutputSerializer, description="Stored and described."), **_ERRORS},
    )
    def post(self, request: Request, chatbot_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        chatbot = self.chatbot
        if isinstance(request.auth, ConversationAccess):
            conversation = request.auth.conversation
        elif "conversation_id" in serializer.validated_data:
            conversation_id = serializer.validated_data["conversation_id"]
            conversation = conversation_get(chatbot=chatbot, conversation_id=conversation_id)
        else:
            conversation = None
        upload = image_upload_create(
            chatbot=chatbot, conversation=conversation, uploaded_file=serializer.validated_data["file"]
        )
        return Response(self.OutputSerializer(upload).data, status=status.HTTP_201_CREATED)
