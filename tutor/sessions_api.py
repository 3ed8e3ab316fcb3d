"""Study sessions: `/api/v1/tutor/sessions/` (list, create), `<id>/` (read, PATCH title and goal),
`<id>/archive/` (POST; archived sessions leave the default list but stay readable)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatplatform.openapi import api_errors
from tutor.auth import LearnerTokenAuthentication
from tutor.permissions import IsLearner
from tutor.selectors import session_for_learner, sessions_for_learner
from tutor.services import session_archive, session_create, session_update


class LearnerApi(APIView):
    """Base of the tutor's learner views: a Bearer token from `POST /api/v1/auth/token/`."""

    authentication_classes = [LearnerTokenAuthentication]
    permission_classes = [IsLearner]


class SessionPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100


@extend_schema_serializer(component_name="StudySessionProgress")
class ProgressSerializer(serializers.Serializer):
    documents = serializers.IntegerField(source="documents_total")
    documents_ready = serializers.IntegerField()
    chunks = serializers.IntegerField(source="chunks_total", help_text="Passages of the documents.")
    chunks_embedded = serializers.IntegerField(help_text="Passages with their vector stored.")
    percent_embedded = serializers.SerializerMethodField()

    def get_percent_embedded(self, session) -> int:
        total = session.chunks_total
        return 100 if total == 0 else session.chunks_embedded * 100 // total


@extend_schema_serializer(component_name="StudySession")
class SessionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    goal = serializers.CharField()
    archived_at = serializers.DateTimeField(allow_null=True)
    context = serializers.JSONField(help_text='Notes between tutor parts, e.g. "missed_concepts".')
    progress = ProgressSerializer(source="*")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


_AUTH = (401,)
_NOT_FOUND = {404: "Or no such session (another learner's sessions answer the same)."}


class SessionListCreateApi(LearnerApi):
    @extend_schema_serializer(component_name="StudySessionFilter")
    class FilterSerializer(serializers.Serializer):
        archived = serializers.ChoiceField(choices=["false", "true", "all"], default="false")

    @extend_schema_serializer(component_name="StudySessionCreate")
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        goal = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="tutor_sessions_list",
        parameters=[
            OpenApiParameter("archived", str, enum=["false", "true", "all"], description="Default false."),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses={200: SessionOutputSerializer(many=True), **api_errors(400, *_AUTH)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        archived = {"false": False, "true": True, "all": None}[filters.validated_data["archived"]]
        sessions = sessions_for_learner(request.user, archived=archived)
        paginator = SessionPagination()
        page = paginator.paginate_queryset(sessions, request, view=self)
        return paginator.get_paginated_response(SessionOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="tutor_sessions_create",
        request=InputSerializer,
        responses={201: SessionOutputSerializer, **api_errors(400, *_AUTH)},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = session_create(learner=request.user, **data.validated_data)
        session = session_for_learner(request.user, session.pk)
        return Response(SessionOutputSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionDetailApi(LearnerApi):
    @extend_schema_serializer(component_name="StudySessionUpdate")
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200, required=False)
        goal = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(
        operation_id="tutor_sessions_read",
        responses={200: SessionOutputSerializer, **api_errors(*_AUTH, 404, notes=_NOT_FOUND)},
    )
    def get(self, request: Request, session_id: int) -> Response:
        return Response(SessionOutputSerializer(session_for_learner(request.user, session_id)).data)

    @extend_schema(
        operation_id="tutor_sessions_update",
        request=InputSerializer,
        responses={200: SessionOutputSerializer, **api_errors(400, *_AUTH, 404, notes=_NOT_FOUND)},
    )
    def patch(self, request: Request, session_id: int) -> Response:
        session = session_for_learner(request.user, session_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        session_update(session=session, **data.validated_data)
        return Response(SessionOutputSerializer(session_for_learner(request.user, session_id)).data)


class SessionArchiveApi(LearnerApi):
    @extend_schema(
        operation_id="tutor_sessions_archive",
        request=None,
        responses={200: SessionOutputSerializer, **api_errors(*_AUTH, 404, notes=_NOT_FOUND)},
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = session_for_learner(request.user, session_id)
        session_archive(session=session)
        return Response(SessionOutputSerializer(session_for_learner(request.user, session_id)).data)
