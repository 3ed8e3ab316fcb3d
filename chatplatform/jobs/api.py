"""REST API of background jobs, under /api/v1/jobs/.

Staff (admin session) see and create every job; an integration key (`Authorization: Api-Key`)
sees and creates only its chatbot's, and only the kinds open to integrations.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatplatform.errors import ApplicationError
from chatplatform.jobs import access
from chatplatform.jobs.models import Job
from chatplatform.jobs.registry import kind_get, kinds_all
from chatplatform.jobs.selectors import job_list
from chatplatform.jobs.services import job_cancel, job_create_or_get, job_retry
from chatplatform.openapi import api_errors

_AUTH_ERRORS = (401, 403)


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


@extend_schema_serializer(component_name="Job")
class JobOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    payload = serializers.JSONField()
    priority = serializers.IntegerField()
    run_at = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=Job.Status.choices)
    progress = serializers.IntegerField(help_text="Percent done, 0-100.")
    progress_message = serializers.CharField()
    cancel_requested = serializers.SerializerMethodField()
    result = serializers.JSONField(allow_null=True)
    error = serializers.SerializerMethodField()
    attempts = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    idempotency_key = serializers.CharField(allow_null=True)
    chatbot = serializers.CharField(help_text="The chatbot the job belongs to; empty for platform jobs.")
    origin = serializers.ChoiceField(choices=Job.Origin.choices)
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()

    def get_cancel_requested(self, job: Job) -> bool:
        return job.cancel_requested_at is not None

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job: Job) -> dict | None:
        if not job.error_code:
            return None
        return {"code": job.error_code, "message": job.error_message}

    def get_created_by(self, job: Job) -> str:
        """The staff user's name, the API key's or the schedule's name."""
        if job.created_by is not None:
            return job.created_by.get_username()
        return job.origin_detail


class _JobApi(APIView):
    permission_classes = [access.IsStaffOrIntegration]

    def get_authenticators(self):
        return access.authenticators()

    def job_get(self, request: Request, job_id: int) -> Job:
        jobs = job_list(chatbot=access.integration_chatbot(request))
        return get_object_or_404(jobs, pk=job_id)


class _Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class JobListCreateApi(_JobApi):
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Job.Status.choices, required=False)
        kind = serializers.CharField(required=False, max_length=64)
        created_after = serializers.DateTimeField(required=False)
        created_before = serializers.DateTimeField(required=False)
        ids = serializers.RegexField(r"^\d+(,\d+)*$", required=False, help_text="Comma-separated ids.")

    class InputSerializer(serializers.Serializer):
        kind = serializers.CharField(max_length=64)
        payload = serializers.JSONField(required=False, default=dict)
        priority = serializers.IntegerField(min_value=0, max_value=9, default=5)
        run_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        idempotency_key = serializers.CharField(max_length=200, required=False, allow_null=True, default=None)

    @extend_schema(
        operation_id="jobs_list",
        parameters=[FilterSerializer],
        responses={200: JobOutputSerializer(many=True), **api_errors(400, *_AUTH_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        if "ids" in data:
            data["ids"] = [int(part) for part in data["ids"].split(",")]
        jobs = job_list(chatbot=access.integration_chatbot(request), **data)
        paginator = _Pagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(JobOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="jobs_create",
        request=InputSerializer,
        responses={
            201: JobOutputSerializer,
            200: JobOutputSerializer,
            **api_errors(
                400,
                *_AUTH_ERRORS,
                notes={
                    400: "Or an unknown kind or a bad payload (`invalid`, with `fields`).",
                    403: "Or the kind is not open to integration keys (`kind_not_allowed`).",
                },
            ),
        },
        description="Creates a job (201), or returns the job of an idempotency key used before (200).",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        chatbot = access.integration_chatbot(request)
        spec = kind_get(data["kind"])
        if chatbot and spec is not None and not spec.integrations:
            raise ApplicationError(
                "kind_not_allowed",
                f'Integration keys cannot create "{spec.name}" jobs.',
                status_code=status.HTTP_403_FORBIDDEN,
            )
        job, created = job_create_or_get(
            data["kind"],
            data["payload"],
            priority=data["priority"],
            run_at=data["run_at"],
            idempotency_key=data["idempotency_key"],
            created_by=None if chatbot else request.user,
            chatbot_id=chatbot,
            origin=Job.Origin.INTEGRATION if chatbot else Job.Origin.STAFF,
            origin_detail=access.integration_name(request) if chatbot else "",
        )
        return Response(
            JobOutputSerializer(job).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class JobDetailApi(_JobApi):
    @extend_schema(
        operation_id="jobs_retrieve",
        responses={
            200: JobOutputSerializer,
            **api_errors(*_AUTH_ERRORS, 404, notes={404: "Or no such job."}),
        },
    )
    def get(self, request: Request, job_id: int) -> Response:
        return Response(JobOutputSerializer(self.job_get(request, job_id)).data)


class JobCancelApi(_JobApi):
    @extend_schema(
        operation_id="jobs_cancel",
        request=None,
        responses={
            200: JobOutputSerializer,
            **api_errors(
                *_AUTH_ERRORS,
                404,
                409,
                notes={404: "Or no such job.", 409: "The job has already ended (`job_not_cancellable`)."},
            ),
        },
        description="A waiting job is cancelled at once; a running one stops at its next progress step "
        "(`cancel_requested` is true until then).",
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = job_cancel(job=self.job_get(request, job_id))
        return Response(JobOutputSerializer(job).data)


class JobRetryApi(_JobApi):
    @extend_schema(
        operation_id="jobs_retry",
        request=None,
        responses={
            200: JobOutputSerializer,
            **api_errors(
                *_AUTH_ERRORS,
                404,
                409,
                notes={404: "Or no such job.", 409: "Only failed or cancelled jobs (`job_not_retryable`)."},
            ),
        },
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = job_retry(job=self.job_get(request, job_id))
        return Response(JobOutputSerializer(job).data)


class JobKindFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()
    help_text = serializers.CharField()


@extend_schema_serializer(component_name="JobKind")
class JobKindOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    max_attempts = serializers.IntegerField()
    integrations = serializers.BooleanField(help_text="Integration keys may create it.")
    payload = JobKindFieldSerializer(many=True, source="payload_fields")


class JobKindListApi(_JobApi):
    @extend_schema(
        operation_id="jobs_kinds_list",
        responses={200: JobKindOutputSerializer(many=True), **api_errors(*_AUTH_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        kinds = kinds_all()
        if access.integration_chatbot(request):
            kinds = [kind for kind in kinds if kind.integrations]
        return Response(JobKindOutputSerializer(kinds, many=True).data)
