"""A session's documents: `/api/v1/tutor/sessions/<id>/documents/` (list, upload) and `<doc>/`.

Uploads come as multipart (one or several `files` parts) or, as older clients send them, JSON
with base64 content: `{"files": [{"filename", "content", "mime_type"}]}`. The answer lists each
file's document, `duplicate: true` for one the session already had (not processed again).
"""

import base64
import binascii

from django.db.models import Count, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from chatplatform.errors import ApplicationError
from chatplatform.openapi import api_errors
from tutor.documents.services import IncomingFile, documents_upload
from tutor.documents.uploads import INVALID_BASE64, file_count_check, file_size_check
from tutor.models import Chunk, Document
from tutor.selectors import document_for_learner, session_for_learner
from tutor.sessions_api import LearnerApi, SessionPagination

_C = Chunk.EmbeddingStatus


def documents_with_chunk_counts(documents):
    return documents.annotate(
        chunks_total=Count("chunks"),
        chunks_embedded=Count("chunks", filter=Q(chunks__embedding_status=_C.COMPLETED)),
        chunks_failed=Count("chunks", filter=Q(chunks__embedding_status=_C.FAILED)),
    )


@extend_schema_serializer(component_name="TutorDocument")
class DocumentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    session = serializers.IntegerField(source="session_id")
    filename = serializers.CharField()
    mime_type = serializers.CharField()
    kind = serializers.ChoiceField(choices=Document.Kind.choices, help_text="Decided by the content.")
    size_bytes = serializers.IntegerField()
    pages = serializers.IntegerField(allow_null=True)
    checksum = serializers.CharField(help_text="sha256 of the bytes, hex.")
    language = serializers.CharField(help_text='ISO 639-1 code, "" when unknown.')
    status = serializers.ChoiceField(choices=Document.Status.choices)
    progress = serializers.IntegerField(help_text="Percent of the processing done, 0-100.")
    error_code = serializers.CharField(help_text="Why processing failed; empty otherwise.")
    error_message = serializers.CharField()
    chunks = serializers.IntegerField(source="chunks_total", default=0)
    chunks_embedded = serializers.IntegerField(default=0)
    chunks_failed = serializers.IntegerField(default=0)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="TutorDocumentUploaded")
class UploadedSerializer(DocumentOutputSerializer):
    duplicate = serializers.BooleanField(help_text="The session had this file already (same checksum).")


@extend_schema_serializer(component_name="TutorDocumentBase64File")
class Base64FileSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255)
    content = serializers.CharField(help_text="The file's bytes, base64.", trim_whitespace=False)
    mime_type = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


@extend_schema_serializer(component_name="TutorDocumentBase64Upload")
class Base64UploadSerializer(serializers.Serializer):
    files = Base64FileSerializer(many=True)


_NOT_FOUND = {404: "Or no such session or document (another learner's ids answer the same)."}
_UPLOAD_NOTES = {
    **_NOT_FOUND,
    400: "Or a refused file: `document_empty`, `document_unreadable` (a broken PDF or DOCX), "
    "`document_encrypted`, `invalid_base64`, `no_files`.",
    409: "The session is archived (`session_archived`).",
    413: "`document_too_large`, `document_too_many_pages`, `document_zip_bomb`, `too_many_files`.",
    415: "`unsupported_document_type`, or `document_type_mismatch`: the name or MIME type says "
    "another type than the content.",
}


class DocumentListCreateApi(LearnerApi):
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        operation_id="tutor_documents_list",
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses={200: DocumentOutputSerializer(many=True), **api_errors(401, 404, notes=_NOT_FOUND)},
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = session_for_learner(request.user, session_id)
        documents = documents_with_chunk_counts(Document.objects.filter(session=session)).order_by(
            "created_at", "id"
        )
        paginator = SessionPagination()
        page = paginator.paginate_queryset(documents, request, view=self)
        return paginator.get_paginated_response(DocumentOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="tutor_documents_upload",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
            },
            "application/json": Base64UploadSerializer,
        },
        responses={
            201: UploadedSerializer(many=True),
            200: UploadedSerializer(many=True),
            **api_errors(400, 401, 404, 409, 413, 415, notes=_UPLOAD_NOTES),
        },
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = session_for_learner(request.user, session_id)
        files = _incoming_files(request)
        results = documents_upload(session=session, files=files)
        by_id = {
            d.pk: d
            for d in documents_with_chunk_counts(
                Document.objects.filter(pk__in=[r.document.pk for r in results])
            )
        }
        body = [
            {**DocumentOutputSerializer(by_id[r.document.pk]).data, "duplicate": r.duplicate} for r in results
        ]
        fresh = any(not r.duplicate for r in results)
        return Response(body, status=status.HTTP_201_CREATED if fresh else status.HTTP_200_OK)


class DocumentDetailApi(LearnerApi):
    @extend_schema(
        operation_id="tutor_documents_read",
        responses={200: DocumentOutputSerializer, **api_errors(401, 404, notes=_NOT_FOUND)},
    )
    def get(self, request: Request, session_id: int, document_id: int) -> Response:
        document = document_for_learner(request.user, session_id, document_id)
        document = documents_with_chunk_counts(Document.objects.filter(pk=document.pk)).get()
        return Response(DocumentOutputSerializer(document).data)


def _incoming_files(request: Request) -> list[IncomingFile]:
    """The request's files, sizes and count checked before any is read into memory."""
    if request.content_type.startswith("multipart/"):
        uploads = request.FILES.getlist("files")
        file_count_check(len(uploads))
        for upload in uploads:
            file_size_check(filename=upload.name or "document", size=upload.size)
        return [
            IncomingFile(filename=u.name or "document", data=u.read(), declared_type=u.content_type or "")
            for u in uploads
        ]
    payload = request.data.get("files") if isinstance(request.data, dict) else None
    file_count_check(len(payload) if isinstance(payload, list) else 0)
    data = Base64UploadSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    files = []
    for item in data.validated_data["files"]:
        content = item["content"]
        # Decoded size is about 3/4 of the text: refuse a large file before decoding it.
        file_size_check(filename=item["filename"], size=len(content) * 3 // 4 - content[-2:].count("="))
        try:
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise ApplicationError(
                INVALID_BASE64, f'The content of "{item["filename"]}" is not valid base64.'
            ) from None
        files.append(IncomingFile(filename=item["filename"], data=raw, declared_type=item["mime_type"]))
    return files
