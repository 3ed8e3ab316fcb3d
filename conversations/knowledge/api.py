"""REST API of a chatbot's knowledge base, for the integration that owns the chatbot (and staff).

`POST documents/` (multipart) stores a document and queues its ingestion (202); `GET documents/`
lists them, `GET documents/<id>/` shows one (poll it for `status`), `DELETE documents/<id>/`
removes its vectors and then the document.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatplatform.openapi import CHATBOT_ERRORS, api_errors
from conversations.auth import INTEGRATION_AUTHENTICATION, INTEGRATION_PERMISSIONS
from conversations.knowledge.selectors import knowledge_document_get, knowledge_document_list
from conversations.knowledge.services import knowledge_document_create, knowledge_document_delete
from conversations.models import Flow, KnowledgeDocument
from conversations.selectors import chatbot_get


@extend_schema_serializer(component_name="KnowledgeDocument")
class DocumentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    source_name = serializers.CharField(help_text="The uploaded file's name; uploading it again replaces it.")
    flow = serializers.ChoiceField(choices=Flow.Name.choices)
    index = serializers.SerializerMethodField(help_text="The knowledge-base index of the document's flow.")
    status = serializers.ChoiceField(choices=KnowledgeDocument.Status.choices)
    progress = serializers.IntegerField(help_text="Percent of the last ingestion done, 0-100.")
    chunk_count = serializers.IntegerField()
    error = serializers.CharField(help_text="Why the last ingestion failed; empty otherwise.")
    size = serializers.IntegerField(help_text="Bytes.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_index(self, document: KnowledgeDocument) -> str:
        return document.indexed_in or document.chatbot.flow_indexes().get(document.flow, "")


_NOTES = {
    400: "Or a refused file (see `error.code`).",
    404: "Or no such document.",
    413: "Or the file is larger than KB_MAX_UPLOAD_BYTES (`document_too_large`).",
    503: "The vector store could not delete the vectors; nothing deleted.",
}


class KnowledgeDocumentListCreateApi(APIView):
    authentication_classes = INTEGRATION_AUTHENTICATION
    permission_classes = INTEGRATION_PERMISSIONS
    parser_classes = [MultiPartParser, FormParser]

    class FilterSerializer(serializers.Serializer):
        flow = serializers.ChoiceField(choices=Flow.Name.choices, required=False)
        status = serializers.ChoiceField(choices=KnowledgeDocument.Status.choices, required=False)

    @extend_schema_serializer(component_name="KnowledgeDocumentUpload")
    class InputSerializer(serializers.Serializer):
        # Empty files are let through so that they are refused with `document_empty`.
        file = serializers.FileField(
            allow_empty_file=True,
            help_text="Markdown, text, PDF, DOCX or HTML; at most KB_MAX_UPLOAD_BYTES (20 MB by default).",
        )
        flow = serializers.ChoiceField(choices=Flow.Name.choices, default=Flow.Name.DEFAULT)
        title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    OutputSerializer = DocumentOutputSerializer

    @extend_schema(
        operation_id="chatbot_documents_list",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **api_errors(400, *CHATBOT_ERRORS, notes=_NOTES)},
    )
    def get(self, request: Request, chatbot_id: str) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        chatbot = chatbot_get(chatbot_id=chatbot_id)
        documents = knowledge_document_list(chatbot=chatbot, **filters.validated_data)
        return Response(self.OutputSerializer(documents, many=True).data)

    @extend_schema(
        operation_id="chatbot_documents_create",
        request={"multipart/form-data": InputSerializer},
        responses={
            202: OpenApiResponse(OutputSerializer, description="Stored; ingestion is queued."),
            **api_errors(400, *CHATBOT_ERRORS, 413, 415, notes=_NOTES),
        },
    )
    def post(self, request: Request, chatbot_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        chatbot = chatbot_get(chatbot_id=chatbot_id)
        document = knowledge_document_create(
            chatbot=chatbot,
            flow=serializer.validated_data["flow"],
            uploaded_file=serializer.validated_data["file"],
            title=serializer.validated_data["title"],
        )
        return Response(self.OutputSerializer(document).data, status=status.HTTP_202_ACCEPTED)


class KnowledgeDocumentDetailApi(APIView):
    authentication_classes = INTEGRATION_AUTHENTICATION
    permission_classes = INTEGRATION_PERMISSIONS

    OutputSerializer = DocumentOutputSerializer

    @extend_schema(
        operation_id="chatbot_documents_retrieve",
        responses={200: OutputSerializer, **api_errors(*CHATBOT_ERRORS, notes=_NOTES)},
    )
    def get(self, request: Request, chatbot_id: str, document_id: int) -> Response:
        chatbot = chatbot_get(chatbot_id=chatbot_id)
        document = knowledge_document_get(chatbot=chatbot, document_id=document_id)
        return Response(self.OutputSerializer(document).data)

    @extend_schema(
        operation_id="chatbot_documents_destroy",
        responses={
            204: OpenApiResponse(description="The document and its vectors are deleted."),
            **api_errors(*CHATBOT_ERRORS, 503, notes=_NOTES),
        },
    )
    def delete(self, request: Request, chatbot_id: str, document_id: int) -> Response:
        chatbot = chatbot_get(chatbot_id=chatbot_id)
        document = knowledge_document_get(chatbot=chatbot, document_id=document_id)
        knowledge_document_delete(document=document)
        return Response(status=status.HTTP_204_NO_CONTENT)
