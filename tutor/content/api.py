"""The content API under `/api/v1/tutor/sessions/<id>/`: `analysis/`, `lesson/` and `quiz/`.

GET returns the latest, POST generates a new one (synchronously: the local rules take well under
a second, a model call a few seconds). A quiz read for taking it hides answers, explanations and
quotes (a quote would give a blank away); `?include_answers=1` shows them for review, and
`?format=gift` or `?format=moodle_xml` exports the quiz with its answers.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from chatplatform.errors import ApplicationError
from chatplatform.openapi import api_errors
from tutor.content.drafts import DIFFICULTIES, MEDIUM, QUESTION_TYPES
from tutor.content.exports import quiz_gift, quiz_moodle_xml
from tutor.content.models import Question
from tutor.content.selectors import analysis_latest, lesson_latest, quiz_latest
from tutor.content.services import analysis_generate, lesson_generate, quiz_generate
from tutor.selectors import session_for_learner
from tutor.services import log_interaction
from tutor.sessions_api import LearnerApi

DEFAULT_QUESTIONS = 10
MAX_QUESTIONS = 50
_NOT_FOUND = "Or no such session (another learner's sessions answer the same)"
_GENERATE_ERRORS = {
    404: f"{_NOT_FOUND}.",
    409: "The session has no ready document (`no_ready_documents`).",
}


@extend_schema_serializer(component_name="ContentSource")
class SourceSerializer(serializers.Serializer):
    chunk = serializers.IntegerField(source="pk")
    document = serializers.IntegerField(source="document_id")
    filename = serializers.CharField(source="document.filename")
    page = serializers.IntegerField(allow_null=True)


@extend_schema_serializer(component_name="Concept")
class ConceptSerializer(serializers.Serializer):
    term = serializers.CharField()
    definition = serializers.CharField()
    quote = serializers.CharField(help_text="The sentence of the source that supports the concept.")
    aliases = serializers.ListField(child=serializers.CharField())
    source = SourceSerializer(source="chunk", allow_null=True)


@extend_schema_serializer(component_name="Analysis")
class AnalysisSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    summary = serializers.CharField()
    concepts = ConceptSerializer(many=True)
    provider = serializers.CharField()
    model = serializers.CharField()
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="LessonSection")
class SectionSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    title = serializers.CharField()
    objectives = serializers.ListField(child=serializers.CharField())
    explanation = serializers.CharField()
    examples = serializers.ListField(child=serializers.CharField())
    sources = SourceSerializer(source="chunks.all", many=True)


@extend_schema_serializer(component_name="Lesson")
class LessonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    focus = serializers.ListField(child=serializers.CharField(), help_text="Missed concepts it leans on.")
    sections = SectionSerializer(many=True)
    provider = serializers.CharField()
    model = serializers.CharField()
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="QuizQuestion")
class QuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    type = serializers.ChoiceField(choices=Question.Type.choices)
    prompt = serializers.CharField()
    options = serializers.ListField(child=serializers.CharField(), help_text="Multiple choice only.")
    source = SourceSerializer(source="chunk", allow_null=True)
    answer = serializers.CharField(
        required=False, help_text='With answers only; "true"/"false" for true_false.'
    )
    accepted = serializers.ListField(child=serializers.CharField(), required=False)
    explanation = serializers.CharField(required=False)
    quote = serializers.CharField(required=False)

    def to_representation(self, question):
        data = super().to_representation(question)
        if not self.context.get("include_answers"):
            for name in ("answer", "accepted", "explanation", "quote"):
                data.pop(name, None)
        return data


@extend_schema_serializer(component_name="Quiz")
class QuizSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    requested = serializers.IntegerField()
    delivered = serializers.IntegerField()
    message = serializers.CharField(help_text='"N of M questions passed validation..." when short.')
    difficulty = serializers.ChoiceField(choices=[(d, d) for d in DIFFICULTIES])
    question_types = serializers.ListField(child=serializers.CharField())
    answers_included = serializers.SerializerMethodField()
    questions = serializers.SerializerMethodField()
    provider = serializers.CharField()
    model = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_answers_included(self, quiz) -> bool:
        return bool(self.context.get("include_answers"))

    @extend_schema_field(QuestionSerializer(many=True))
    def get_questions(self, quiz) -> list[dict]:
        return QuestionSerializer(quiz.questions.all(), many=True, context=self.context).data


class GiftRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "gift"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else data


class MoodleXmlRenderer(BaseRenderer):
    media_type = "application/xml"
    format = "moodle_xml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


def _latest_or_404(value, code: str, what: str):
    if value is None:
        raise ApplicationError(
            code, f"The session has no {what} yet; generate one with POST.", status_code=404
        )
    return value


class AnalysisApi(LearnerApi):
    @extend_schema(
        operation_id="tutor_analysis_retrieve",
        responses={
            200: AnalysisSerializer,
            **api_errors(401, 404, notes={404: f"{_NOT_FOUND}, or no analysis yet (`analysis_not_found`)."}),
        },
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = session_for_learner(request.user, session_id)
        analysis = _latest_or_404(analysis_latest(session), "analysis_not_found", "analysis")
        log_interaction(request.user, "analysis_viewed", session=session, analysis=analysis.pk)
        return Response(AnalysisSerializer(analysis).data)

    @extend_schema(
        operation_id="tutor_analysis_create",
        request=None,
        responses={201: AnalysisSerializer, **api_errors(401, 404, 409, notes=_GENERATE_ERRORS)},
        description="Generates a new analysis: a summary and key concepts, each with its quote and source.",
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = session_for_learner(request.user, session_id)
        analysis_generate(session=session, learner=request.user)
        return Response(AnalysisSerializer(analysis_latest(session)).data, status=status.HTTP_201_CREATED)


class LessonApi(LearnerApi):
    @extend_schema(
        operation_id="tutor_lesson_retrieve",
        responses={
            200: LessonSerializer,
            **api_errors(401, 404, notes={404: f"{_NOT_FOUND}, or no lesson yet (`lesson_not_found`)."}),
        },
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = session_for_learner(request.user, session_id)
        lesson = _latest_or_404(lesson_latest(session), "lesson_not_found", "lesson")
        log_interaction(request.user, "lesson_viewed", session=session, lesson=lesson.pk)
        return Response(LessonSerializer(lesson).data)

    @extend_schema(
        operation_id="tutor_lesson_create",
        request=None,
        responses={201: LessonSerializer, **api_errors(401, 404, 409, notes=_GENERATE_ERRORS)},
        description="Generates a new lesson, leaning on the concepts the learner's last summary missed.",
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = session_for_learner(request.user, session_id)
        lesson_generate(session=session, learner=request.user)
        return Response(LessonSerializer(lesson_latest(session)).data, status=status.HTTP_201_CREATED)


class QuizInputSerializer(serializers.Serializer):
    """For the schema only: the view checks these itself, to answer with a code per field."""

    num_questions = serializers.IntegerField(min_value=1, max_value=MAX_QUESTIONS, default=DEFAULT_QUESTIONS)
    difficulty = serializers.ChoiceField(choices=[(d, d) for d in DIFFICULTIES], default=MEDIUM)
    question_types = serializers.MultipleChoiceField(
        choices=QUESTION_TYPES, required=False, help_text="Default: all."
    )


def quiz_parameters(data) -> dict:
    """The POST body checked, with stable codes: `invalid_num_questions`, `invalid_difficulty`,
    `invalid_question_types`."""
    if not isinstance(data, dict):
        raise ApplicationError("malformed_request", "The body must be a JSON object.")
    number = data.get("num_questions", DEFAULT_QUESTIONS)
    if isinstance(number, str) and number.strip().isdigit():
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_QUESTIONS:
        message = f"num_questions must be a whole number from 1 to {MAX_QUESTIONS}."
        raise ApplicationError("invalid_num_questions", message, fields={"num_questions": [message]})
    difficulty = data.get("difficulty", MEDIUM)
    if difficulty not in DIFFICULTIES:
        message = "difficulty must be easy, medium or hard."
        raise ApplicationError("invalid_difficulty", message, fields={"difficulty": [message]})
    types = data.get("question_types", list(QUESTION_TYPES))
    if isinstance(types, str):
        types = [part.strip() for part in types.split(",")]
    if (
        not isinstance(types, list)
        or not types
        or any(kind not in QUESTION_TYPES for kind in types)
        or len(set(types)) != len(types)
    ):
        message = (
            f"question_types must be a non-empty list of distinct types among {', '.join(QUESTION_TYPES)}."
        )
        raise ApplicationError("invalid_question_types", message, fields={"question_types": [message]})
    return {"num_questions": number, "difficulty": difficulty, "question_types": types}


# The export formats (renderers below) and the name of their download.
_EXPORTS = {"gift": "gift.txt", "moodle_xml": "moodle.xml"}


class QuizApi(LearnerApi):
    renderer_classes = [JSONRenderer, GiftRenderer, MoodleXmlRenderer]

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force=force)
        except Http404:
            raise ApplicationError(
                "invalid_format",
                "format must be json, gift or moodle_xml.",
                status_code=status.HTTP_400_BAD_REQUEST,
            ) from None

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON in every format.
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        operation_id="tutor_quiz_retrieve",
        parameters=[
            OpenApiParameter(
                "include_answers", bool, description="Show answers, explanations and quotes (review)."
            ),
            OpenApiParameter(
                "format", str, enum=["json", "gift", "moodle_xml"], description="Export with answers."
            ),
        ],
        responses={
            (200, "application/json"): QuizSerializer,
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="GIFT"),
            (200, "application/xml"): OpenApiResponse(OpenApiTypes.STR, description="Moodle XML"),
            **api_errors(
                400,
                401,
                404,
                notes={
                    400: "An unknown `format` (`invalid_format`).",
                    404: f"{_NOT_FOUND}, or no quiz yet (`quiz_not_found`).",
                },
            ),
        },
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = session_for_learner(request.user, session_id)
        quiz = _latest_or_404(quiz_latest(session), "quiz_not_found", "quiz")
        export = request.accepted_renderer.format
        if export in _EXPORTS:
            log_interaction(request.user, "quiz_exported", session=session, quiz=quiz.pk, format=export)
            questions = list(quiz.questions.all())
            body = quiz_gift(quiz, questions) if export == "gift" else quiz_moodle_xml(quiz, questions)
            filename = f"quiz-{quiz.pk}-{_EXPORTS[export]}"
            return Response(body, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        include_answers = request.query_params.get("include_answers", "").lower() in ("1", "true", "yes")
        log_interaction(request.user, "quiz_viewed", session=session, quiz=quiz.pk, answers=include_answers)
        return Response(QuizSerializer(quiz, context={"include_answers": include_answers}).data)

    @extend_schema(
        operation_id="tutor_quiz_create",
        request=QuizInputSerializer,
        responses={
            201: QuizSerializer,
            **api_errors(
                400,
                401,
                404,
                409,
                422,
                notes={
                    400: "Or `invalid_num_questions`, `invalid_difficulty`, `invalid_question_types`.",
                    **_GENERATE_ERRORS,
                    422: "No question could be grounded in the documents (`quiz_not_generated`).",
                },
            ),
        },
        description="Generates a quiz; when fewer questions pass validation than were asked for, "
        "`delivered` < `requested` and `message` says so. Answers are hidden, as in GET: the "
        "learner takes the quiz next (GET `?include_answers=1` shows them).",
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = session_for_learner(request.user, session_id)
        parameters = quiz_parameters(request.data)
        quiz_generate(session=session, learner=request.user, **parameters)
        quiz = quiz_latest(session)
        return Response(
            QuizSerializer(quiz, context={"include_answers": False}).data, status=status.HTTP_201_CREATED
        )
