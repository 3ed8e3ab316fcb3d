"""REST API of learning events and analytics, under /api/v1/tutor/ (Bearer token of a learner).

Every path names one of the learner's own sessions; another learner's session answers 404 like
a missing one (`tutor.selectors.session_for_learner`).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatplatform.openapi import api_errors
from tutor.learning import selectors, services
from tutor.learning.engagement_scores import engagement_recompute
from tutor.selectors import session_for_learner
from tutor.sessions_api import LearnerApi as SessionsLearnerApi

_SESSION_ERRORS = (401, 404)
_NOT_FOUND = {404: "No such session of yours (`not_found`)."}


class LearnerApi(SessionsLearnerApi):
    def session(self, request: Request, session_id: int):
        return session_for_learner(request.user, session_id)


class _Pages(CursorPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-created_at", "-id")


def _paged(view: APIView, request: Request, queryset, serialize) -> Response:
    pages = _Pages()
    rows = pages.paginate_queryset(queryset, request, view=view)
    return Response(
        {
            "results": [serialize(row) for row in rows],
            "next": pages.get_next_link(),
            "previous": pages.get_previous_link(),
        }
    )


# --- quiz attempts -------------------------------------------------------------------------------


@extend_schema_serializer(component_name="TutorAttemptAnswer")
class AttemptAnswerOutputSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question_id")
    position = serializers.IntegerField(source="question.position")
    prompt = serializers.CharField(source="question.prompt")
    given = serializers.CharField()
    correct = serializers.BooleanField()
    answer = serializers.CharField(source="question.answer", help_text="The expected answer.")
    explanation = serializers.CharField(source="question.explanation")


@extend_schema_serializer(component_name="TutorQuizAttempt")
class QuizAttemptOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    quiz = serializers.IntegerField(source="quiz_id")
    score = serializers.FloatField(help_text="Correct over the quiz's questions, 0-1.")
    correct = serializers.IntegerField()
    total = serializers.IntegerField()
    time_taken_s = serializers.FloatField()
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="TutorQuizAttemptScored")
class QuizAttemptDetailOutputSerializer(QuizAttemptOutputSerializer):
    answers = AttemptAnswerOutputSerializer(many=True)


class QuizAttemptListCreateApi(LearnerApi):
    """A learner's attempts at the session's quizzes: POST one (scored by the server), GET them
    newest first."""

    @extend_schema_serializer(component_name="TutorQuizAttemptInput")
    class InputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="TutorAnswerInput")
        class AnswerSerializer(serializers.Serializer):
            question = serializers.IntegerField()
            given = serializers.JSONField(help_text='The answer: text (true_false: "true"/"false").')

        quiz = serializers.IntegerField(required=False, help_text="Default: the session's latest quiz.")
        answers = AnswerSerializer(many=True, allow_empty=True)
        time_taken_s = serializers.FloatField(min_value=0)

    @extend_schema(
        operation_id="tutor_quiz_attempts_list",
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
        responses={
            200: QuizAttemptOutputSerializer(many=True),
            **api_errors(*_SESSION_ERRORS, notes=_NOT_FOUND),
        },
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = self.session(request, session_id)
        return _paged(
            self, request, selectors.quiz_attempts(session), lambda row: QuizAttemptOutputSerializer(row).data
        )

    @extend_schema(
        operation_id="tutor_quiz_attempts_create",
        request=InputSerializer,
        responses={
            201: QuizAttemptDetailOutputSerializer,
            **api_errors(
                400,
                *_SESSION_ERRORS,
                notes={
                    400: "Also `question_not_in_quiz`, `duplicate_answer`, `quiz_empty`.",
                    404: "No such session of yours (`not_found`), or no such quiz in it (`quiz_not_found`).",
                },
            ),
        },
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = self.session(request, session_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        attempt = services.quiz_attempt_create(
            learner=request.user,
            session=session,
            quiz_id=data.get("quiz"),
            answers=[dict(answer) for answer in data["answers"]],
            time_taken_s=data["time_taken_s"],
        )
        body = QuizAttemptOutputSerializer(attempt).data
        body["answers"] = AttemptAnswerOutputSerializer(selectors.attempt_answers(attempt), many=True).data
        return Response(body, status=status.HTTP_201_CREATED)


# --- summaries -----------------------------------------------------------------------------------


@extend_schema_serializer(component_name="TutorSummary")
class SummaryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    analysis = serializers.IntegerField(source="analysis_id", allow_null=True)
    covered = serializers.ListField(child=serializers.CharField())
    missed = serializers.ListField(child=serializers.CharField())
    coverage = serializers.FloatField(allow_null=True)
    matches = serializers.ListField(child=serializers.DictField(), help_text="How each concept was judged.")
    created_at = serializers.DateTimeField()


class SummaryListCreateApi(LearnerApi):
    """Summaries the learner wrote: POST one to see which key concepts it covers and misses (the
    missed ones go into the session's context for the next lesson and quiz)."""

    @extend_schema_serializer(component_name="TutorSummaryInput")
    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(trim_whitespace=True, max_length=services.SUMMARY_MAX_CHARS)

    @extend_schema(
        operation_id="tutor_summaries_list",
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
        responses={200: SummaryOutputSerializer(many=True), **api_errors(*_SESSION_ERRORS, notes=_NOT_FOUND)},
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = self.session(request, session_id)
        return _paged(
            self, request, selectors.learner_summaries(session), lambda row: SummaryOutputSerializer(row).data
        )

    @extend_schema(
        operation_id="tutor_summaries_create",
        request=InputSerializer,
        responses={
            201: SummaryOutputSerializer,
            **api_errors(
                400,
                *_SESSION_ERRORS,
                409,
                notes={**_NOT_FOUND, 409: "No analysis yet (`analysis_not_ready`)."},
            ),
        },
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = self.session(request, session_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        summary = services.learner_summary_create(
            learner=request.user, session=session, text=serializer.validated_data["text"]
        )
        return Response(SummaryOutputSerializer(summary).data, status=status.HTTP_201_CREATED)


# --- the interaction log -------------------------------------------------------------------------


class XapiRenderer(JSONRenderer):
    """Selected with `?format=xapi`: the page's events as an xAPI StatementResult."""

    format = "xapi"


@extend_schema_serializer(component_name="TutorInteraction")
class LogOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    data = serializers.DictField()
    created_at = serializers.DateTimeField()


class InteractionLogListApi(LearnerApi):
    """The learner's interaction log in the session, newest first, paged; `kind` (repeatable or
    comma-separated), `since` (inclusive) and `until` (exclusive) filter it. `?format=xapi` gives
    the same page as xAPI statements, with `more` linking the next page."""

    renderer_classes = [JSONRenderer, XapiRenderer]

    class FilterSerializer(serializers.Serializer):
        kind = serializers.ListField(child=serializers.RegexField(r"^[a-z][a-z0-9_]{0,63}$"), required=False)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

    @extend_schema(
        operation_id="tutor_logs_list",
        parameters=[
            OpenApiParameter("kind", str, many=True, description="Only these kinds (e.g. quiz_attempted)."),
            OpenApiParameter("since", str, description="ISO 8601; events at or after it."),
            OpenApiParameter("until", str, description="ISO 8601; events before it."),
            OpenApiParameter("format", str, enum=["json", "xapi"]),
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
        ],
        responses={
            200: LogOutputSerializer(many=True),
            **api_errors(400, *_SESSION_ERRORS, notes=_NOT_FOUND),
        },
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = self.session(request, session_id)
        kinds = [kind for value in request.query_params.getlist("kind") for kind in value.split(",") if kind]
        filters = self.FilterSerializer(
            data={
                **({"kind": kinds} if kinds else {}),
                **{
                    name: request.query_params[name]
                    for name in ("since", "until")
                    if name in request.query_params
                },
            }
        )
        filters.is_valid(raise_exception=True)
        logs = selectors.interaction_logs(
            request.user,
            session,
            kinds=kinds,
            since=filters.validated_data.get("since"),
            until=filters.validated_data.get("until"),
        )
        pages = _Pages()
        rows = pages.paginate_queryset(logs, request, view=self)
        if request.accepted_renderer.format == "xapi":
            base_url = request.build_absolute_uri("/")
            return Response(
                {
                    "statements": selectors.xapi_statements(rows, session, base_url),
                    "more": pages.get_next_link() or "",
                }
            )
        return Response(
            {
                "results": LogOutputSerializer(rows, many=True).data,
                "next": pages.get_next_link(),
                "previous": pages.get_previous_link(),
            }
        )


# --- analytics -----------------------------------------------------------------------------------


class SessionAnalyticsApi(LearnerApi):
    """The session's engagement (each signal's points summing to the score, recomputed when older
    than 15 minutes or than the latest activity), quiz and summary figures and activity."""

    @extend_schema(
        operation_id="tutor_session_analytics",
        responses={200: OpenApiTypes.OBJECT, **api_errors(*_SESSION_ERRORS, notes=_NOT_FOUND)},
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = self.session(request, session_id)
        return Response(selectors.session_analytics(session))


class SessionAnalyticsRefreshApi(LearnerApi):
    """Compute the session's engagement now and return the analytics."""

    @extend_schema(
        operation_id="tutor_session_analytics_refresh",
        request=None,
        responses={200: OpenApiTypes.OBJECT, **api_errors(*_SESSION_ERRORS, notes=_NOT_FOUND)},
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = self.session(request, session_id)
        engagement_recompute(session)
        return Response(selectors.session_analytics(session))


class LearnerAnalyticsApi(LearnerApi):
    """The learner's figures across sessions, with each recent session's engagement."""

    @extend_schema(
        operation_id="tutor_learner_analytics", responses={200: OpenApiTypes.OBJECT, **api_errors(401)}
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.learner_analytics(request.user))
