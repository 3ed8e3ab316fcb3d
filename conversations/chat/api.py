"""REST for conversations: create, read, and ask (answered as JSON or as server-sent events)."""

import asyncio
from collections.abc import AsyncIterator

import orjson
from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from chatplatform.errors import ApplicationError
from chatplatform.openapi import CHATBOT_ERRORS, api_errors
from conversations.auth import INTEGRATION_AUTHENTICATION, INTEGRATION_PERMISSIONS
from conversations.chat import selectors, services
from conversations.chat.intake import (
    RATE_LIMITED,
    question_image,
    question_rate_allows_blocking,
    question_read,
)
from conversations.chat.models import Message
from conversations.chat.pipeline import answer_start
from conversations.models import Flow

# Final error codes of an answer and the HTTP status a JSON client gets for them.
ANSWER_ERROR_STATUS = {
    "provider_timeout": status.HTTP_504_GATEWAY_TIMEOUT,
    "storage_unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
    "answer_not_saved": status.HTTP_503_SERVICE_UNAVAILABLE,
    "answer_interrupted": status.HTTP_503_SERVICE_UNAVAILABLE,
}


class EventStreamRenderer(BaseRenderer):
    media_type = "text/event-stream"
    format = "sse"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return orjson.dumps(data)


class ChatbotScopedApi(APIView):
    authentication_classes = INTEGRATION_AUTHENTICATION
    permission_classes = INTEGRATION_PERMISSIONS

    def chatbot(self):
        return selectors.chatbot_for_chat(chatbot_id=self.kwargs["chatbot_id"])


class ConversationCreateApi(ChatbotScopedApi):
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        token = serializers.CharField(help_text="Resumes the conversation over the websocket.")

        class Meta:
            ref_name = "ConversationCreated"

    @extend_schema(request=None, responses={201: OutputSerializer, **api_errors(*CHATBOT_ERRORS)})
    def post(self, request, chatbot_id: str) -> Response:
        conversation, token = services.conversation_create(chatbot=self.chatbot())
        return Response({"id": conversation.id, "token": token}, status=status.HTTP_201_CREATED)


class MessageOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    role = serializers.ChoiceField(choices=Message.Role.choices)
    text = serializers.CharField()
    status = serializers.ChoiceField(choices=Message.Status.choices)
    flow = serializers.ChoiceField(
        choices=Flow.Name.choices, allow_blank=True, help_text="The answer's flow; empty for questions."
    )
    sources = serializers.ListField(child=serializers.DictField())
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ConversationMessage"


class MessagePagination(CursorPagination):
    """A conversation's messages, oldest first (newest last), `page_size` at a time."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("created_at", "id")


class ConversationDetailApi(ChatbotScopedApi):
    """The conversation and one page of its messages, oldest first; `next` reads the following
    page (a cursor link, stable while new messages arrive), null on the last."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        created_at = serializers.DateTimeField()
        messages = MessageOutputSerializer(many=True)
        next = serializers.URLField(allow_null=True, help_text="The next page of messages, or null.")
        previous = serializers.URLField(allow_null=True, help_text="The previous page, or null.")

        class Meta:
            ref_name = "ConversationDetail"

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, description="From a `next` or `previous` link."),
            OpenApiParameter(
                "page_size",
                int,
                description=f"Messages per page: {MessagePagination.page_size} by default, at most "
                f"{MessagePagination.max_page_size}.",
            ),
        ],
        responses={
            200: OutputSerializer,
            **api_errors(
                *CHATBOT_ERRORS,
                notes={
                    404: "No such conversation (`conversation_not_found`), or a `cursor` that is not valid."
                },
            ),
        },
    )
    def get(self, request, chatbot_id: str, conversation_id: str) -> Response:
        conversation = selectors.conversation_get(chatbot=self.chatbot(), conversation_id=conversation_id)
        pages = MessagePagination()
        messages = pages.paginate_queryset(conversation.messages.all(), request, view=self)
        data = {
            "id": conversation.id,
            "created_at": conversation.created_at,
            "messages": messages,
            "next": pages.get_next_link(),
            "previous": pages.get_previous_link(),
        }
        return Response(self.OutputSerializer(data).data)


class MessageCreateApi(ChatbotScopedApi):
    """Ask a question. JSON by default; `Accept: text/event-stream` streams the websocket's
    events (`start`, `token`, `end` or `error`) as server-sent events."""

    renderer_classes = [JSONRenderer, EventStreamRenderer]
    content_negotiation_class = DefaultContentNegotiation

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=settings.CHAT_MAX_MESSAGE_CHARS, trim_whitespace=True)
        image_id = serializers.CharField(required=False, allow_null=True)
        client_id = serializers.CharField(required=False, max_length=64, allow_blank=True)

        class Meta:
            ref_name = "Question"

    class OutputSerializer(serializers.Serializer):
        message_id = serializers.UUIDField()
        text = serializers.CharField()
        flow = serializers.ChoiceField(choices=Flow.Name.choices)
        status = serializers.ChoiceField(choices=Message.Status.choices)
        sources = serializers.ListField(child=serializers.DictField())
        metrics = serializers.DictField()

        class Meta:
            ref_name = "Answer"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="Server-sent events: start, token (seq 1..n), then end or error.",
            ),
            **api_errors(
                400,
                *CHATBOT_ERRORS,
                406,
                409,
                413,
                415,
                429,
                502,
                503,
                504,
                notes={
                    404: "No such conversation (`conversation_not_found`) or image (`image_not_found`).",
                    406: "`Accept` must allow `application/json` or `text/event-stream`.",
                    409: "This `client_id` was already answered (`duplicate_message`).",
                    429: "Too many questions from this address (`rate_limited`), as on the websocket.",
                    502: "The AI provider failed (its code, e.g. `provider_unavailable`); the question "
                    "is kept.",
                    503: "The answer could not be stored (`storage_unavailable`).",
                    504: "The AI provider did not answer in time (`provider_timeout`).",
                },
            ),
        },
    )
    def post(self, request, chatbot_id: str, conversation_id: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        state = selectors.chat_state_get(chatbot_id=chatbot_id, conversation_id=conversation_id)
        state.client_ip = request.META.get("REMOTE_ADDR", "")
        question = question_read(
            text=data.validated_data["text"],
            client_id=data.validated_data.get("client_id", ""),
            image_id=data.validated_data.get("image_id"),
        )
        image = question_image(state=state, question=question)
        if question.client_id in state.answers_by_client_id:
            raise ApplicationError(
                "duplicate_message",
                "A message with this client_id was already answered; GET the conversation to read it.",
                status_code=409,
            )
        if not question_rate_allows_blocking(state=state):
            raise ApplicationError(*RATE_LIMITED, status_code=status.HTTP_429_TOO_MANY_REQUESTS)
        if request.accepted_renderer.format == "sse":
            response = StreamingHttpResponse(
                _sse(state, question.text, question.client_id, image), content_type="text/event-stream"
            )
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        final = async_to_sync(_answer_final)(state, question.text, question.client_id, image)
        if final["type"] == "error":
            code = final["code"]
            raise ApplicationError(
                code, final["message"], status_code=ANSWER_ERROR_STATUS.get(code, status.HTTP_502_BAD_GATEWAY)
            )
        return Response(
            {
                "message_id": final["message_id"],
                "text": final["text"],
                "flow": final.get("flow", ""),
                "status": final.get("status", Message.Status.COMPLETED),
                "sources": final["sources"],
                "metrics": final["metrics"],
            }
        )


async def _answer_final(state, question: str, client_id: str, image) -> dict:
    frames: asyncio.Queue[str] = asyncio.Queue()
    buffer = answer_start(state=state, question=question, client_id=client_id, image=image)
    await buffer.subscribe(frames.put)
    flow = ""
    while True:
        event = orjson.loads(await frames.get())
        if event["type"] == "start":
            flow = event["flow"]
        elif event["type"] in {"end", "error"}:
            event["flow"] = flow
            return event


async def _sse(state, question: str, client_id: str, image) -> AsyncIterator[bytes]:
    frames: asyncio.Queue[str] = asyncio.Queue()
    buffer = answer_start(state=state, question=question, client_id=client_id, image=image)
    await buffer.subscribe(frames.put)
    try:
        while True:
            frame = await frames.get()
            kind = orjson.loads(frame)["type"] if not frame.startswith('{"type":"token"') else "token"
            yield f"event: {kind}\ndata: {frame}\n\n".encode()
            if kind in {"end", "error"}:
                return
    finally:
        # The client went away: the answer finishes and is saved without it.
        buffer.unsubscribe(frames.put)
