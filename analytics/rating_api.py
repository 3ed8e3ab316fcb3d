"""REST rating of an answer:
`POST /api/v1/chatbots/<chatbot_id>/conversations/<id>/messages/<message_id>/rating/`."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from analytics.models import AnswerRating
from analytics.ratings import answer_rate
from chatplatform.openapi import CHATBOT_ERRORS, api_errors
from conversations.chat import selectors
from conversations.chat.api import ChatbotScopedApi


class AnswerRatingApi(ChatbotScopedApi):
    """Rate an answer up or down; rating it again replaces the value. Same authentication as the
    conversation's other endpoints (the chatbot's integration key, or staff)."""

    class InputSerializer(serializers.Serializer):
        value = serializers.ChoiceField(choices=AnswerRating.Value.choices)

        class Meta:
            ref_name = "AnswerRatingInput"

    class OutputSerializer(serializers.Serializer):
        message_id = serializers.UUIDField(source="answer_id")
        value = serializers.ChoiceField(choices=AnswerRating.Value.choices)
        updated_at = serializers.DateTimeField()

        class Meta:
            ref_name = "AnswerRating"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **api_errors(
                400,
                *CHATBOT_ERRORS,
                409,
                413,
                415,
                notes={
                    400: 'A value other than "up" or "down" (`invalid_rating`), or a question rather '
                    "than an answer (`message_not_an_answer`).",
                    404: "No such conversation (`conversation_not_found`), or no such message in it "
                    "(`message_not_found`).",
                    409: "The answer is still being generated (`answer_in_progress`).",
                },
            ),
        },
    )
    def post(self, request, chatbot_id: str, conversation_id: str, message_id: str) -> Response:
        conversation = selectors.conversation_get(chatbot=self.chatbot(), conversation_id=conversation_id)
        data = request.data if isinstance(request.data, dict) else {}
        rating = answer_rate(conversation_id=conversation.id, message_id=message_id, value=data.get("value"))
        return Response(self.OutputSerializer(rating).data)
