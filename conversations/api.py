from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from chatplatform.openapi import CHATBOT_ERRORS, api_errors
from conversations.auth import INTEGRATION_AUTHENTICATION, INTEGRATION_PERMISSIONS
from conversations.selectors import chatbot_active_get


class ChatbotDetailApi(APIView):
    """The active chatbot's public configuration, for the integration that owns it. Never its
    secrets. An inactive chatbot is `chatbot_not_found`, as the chat endpoints answer it."""

    authentication_classes = INTEGRATION_AUTHENTICATION
    permission_classes = INTEGRATION_PERMISSIONS

    class OutputSerializer(serializers.Serializer):
        chatbot_id = serializers.CharField()
        name = serializers.CharField()
        language = serializers.CharField()
        is_active = serializers.BooleanField()
        allowed_origins = serializers.ListField(child=serializers.CharField())
        topics = serializers.ListField(child=serializers.CharField())
        flows = serializers.DictField(child=serializers.CharField(), source="flow_indexes")
        vector_store = serializers.SerializerMethodField()
        updated_at = serializers.DateTimeField()

        class Meta:
            ref_name = "Chatbot"

        @extend_schema_field(serializers.ChoiceField(choices=["pinecone", "local"]))
        def get_vector_store(self, chatbot) -> str:
            return "pinecone" if chatbot.uses_pinecone else "local"

    @extend_schema(responses={200: OutputSerializer, **api_errors(*CHATBOT_ERRORS)})
    def get(self, request, chatbot_id: str) -> Response:
        chatbot = chatbot_active_get(chatbot_id=chatbot_id)
        return Response(self.OutputSerializer(chatbot).data)
