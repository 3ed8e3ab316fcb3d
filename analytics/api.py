"""Dashboard API under /api/v1/analytics/: thin views over analytics/selectors.py and drilldown.py.

Staff (admin session) read any chatbot; an integration key (`Authorization: Api-Key`) only its
own (another chatbot's: 403; no credentials: 401). Query parameters are checked before any query
runs: an unknown or malformed one is a 400 with a stable code, never a 500.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import authentication, permissions, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.drilldown import Filters, conversation_rows, conversations_query, rows_with_metrics
from analytics.selectors import dashboard, flows_table
from analytics.windows import RANGES, Window, window_resolve
from chatplatform.errors import ApplicationError
from chatplatform.openapi import api_errors
from conversations.auth import ChatbotAPIKeyAuthentication
from conversations.models import ChatbotAPIKey, ChatbotSettings, Message
from tracking.models import OrderLookup

_BOOLEAN = ("true", "false")


class WindowQuery(serializers.Serializer):
    chatbot = serializers.CharField(required=False, max_length=64)
    range = serializers.ChoiceField(choices=list(RANGES), required=False)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: these two cannot be class attributes.
        fields["from"] = serializers.DateField(required=False, help_text="First day (UTC), inclusive.")
        fields["to"] = serializers.DateField(required=False, help_text="Last day (UTC), inclusive.")
        return fields


class ConversationsQuery(WindowQuery):
    topic = serializers.CharField(required=False, max_length=100, allow_blank=True)
    analysed = serializers.ChoiceField(choices=_BOOLEAN, required=False)
    scored = serializers.ChoiceField(choices=_BOOLEAN, required=False)
    score_min = serializers.IntegerField(required=False, min_value=1, max_value=10)
    score_max = serializers.IntegerField(required=False, min_value=1, max_value=10)
    resolution = serializers.ChoiceField(
        choices=["open", "confirmed", "assumed", "unresolved", "resolved"], required=False
    )
    answered = serializers.ChoiceField(choices=_BOOLEAN, required=False)
    flow = serializers.CharField(required=False, max_length=16)
    status = serializers.ChoiceField(choices=Message.Status.values, required=False)
    error = serializers.ChoiceField(choices=_BOOLEAN, required=False)
    stopped = serializers.ChoiceField(choices=_BOOLEAN, required=False)
    not_found = serializers.ChoiceField(choices=_BOOLEAN, required=False)
    rating = serializers.ChoiceField(choices=["up", "down"], required=False)
    order_lookup = serializers.ChoiceField(choices=OrderLookup.Outcome.values, required=False)
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False, default="json")


class _IgnoreFormatParameter(DefaultContentNegotiation):
    """`?format=csv` selects the export, which the view streams itself; DRF would otherwise look
    for a renderer named csv. Errors are JSON whatever the format."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class IsStaffOrIntegration(permissions.BasePermission):
    message = "Staff or an integration key are needed."

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ChatbotAPIKey):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


class _AnalyticsApi(APIView):
    authentication_classes = [ChatbotAPIKeyAuthentication, authentication.SessionAuthentication]
    permission_classes = [IsStaffOrIntegration]
    content_negotiation_class = _IgnoreFormatParameter
    query_serializer: type[serializers.Serializer] = WindowQuery

    def chatbot(self, request: Request) -> ChatbotSettings:
        """The chatbot asked for; an integration key reaches only its own (the default)."""
        wanted = request.query_params.get("chatbot", "")
        if isinstance(request.auth, ChatbotAPIKey):
            own = request.auth.chatbot
            if wanted and wanted != own.chatbot_id:
                raise PermissionDenied("This API key does not grant access to this chatbot.")
            return own
        if not wanted:
            raise ApplicationError("chatbot_required", "Name the chatbot: ?chatbot=<chatbot id>.")
        chatbot = ChatbotSettings.objects.filter(chatbot_id=wanted).first()
        if chatbot is None:
            raise ApplicationError("chatbot_not_found", "No such chatbot.", status_code=404)
        return chatbot

    def query(self, request: Request) -> dict:
        unknown = sorted(set(request.query_params) - set(self.query_serializer().fields))
        if unknown:
            raise ApplicationError(
                "unknown_parameter",
                f"Unknown query parameter: {', '.join(unknown)}.",
                fields={name: ["Not a parameter of this endpoint."] for name in unknown},
            )
        repeated = sorted(
            name for name in request.query_params if len(request.query_params.getlist(name)) > 1
        )
        if repeated:
            raise ApplicationError(
                "repeated_parameter",
                f"Give each parameter once: {', '.join(repeated)}.",
                fields={name: ["Given more than once."] for name in repeated},
            )
        serializer = self.query_serializer(data=request.query_params)
        if not serializer.is_valid():
            raise ApplicationError(
                "invalid_query", "Some query parameters are not valid.", fields=serializer.errors
            )
        return serializer.validated_data

    def resolve(self, request: Request) -> tuple[ChatbotSettings, Window, dict]:
        chatbot = self.chatbot(request)
        query = self.query(request)
        window = window_resolve(query.get("range"), query.get("from"), query.get("to"))
        return chatbot, window, query


_WINDOW_PARAMETERS = [
    OpenApiParameter("chatbot", str, description="The chatbot's id; an integration key's own by default."),
    OpenApiParameter("range", str, enum=list(RANGES), description="Last 24 hours, or the last 7/30 days."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (UTC), inclusive; instead of range."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (UTC), inclusive; instead of range."),
]
_ERRORS = api_errors(
    400,
    401,
    403,
    404,
    notes={
        400: "`chatbot_required`, `unknown_parameter`, `repeated_parameter`, `invalid_query`, "
        "`range_conflict`, `date_range_reversed`, `date_range_too_long`.",
    },
)


class DashboardApi(_AnalyticsApi):
    @extend_schema(
        operation_id="analytics_dashboard",
        parameters=_WINDOW_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, **_ERRORS},
        description="Every dashboard figure of the chatbot for the window, each with the URL of the "
        "conversations behind it, and a daily series.",
    )
    def get(self, request: Request) -> Response:
        chatbot, window, _ = self.resolve(request)
        return Response(dashboard(chatbot, window))


class FlowsApi(_AnalyticsApi):
    @extend_schema(
        operation_id="analytics_flows",
        parameters=_WINDOW_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, **_ERRORS},
        description="Per flow: answers, TTFT p50/p95, tokens/s, errors and average score.",
    )
    def get(self, request: Request) -> Response:
        chatbot, window, _ = self.resolve(request)
        return Response({"chatbot": chatbot.chatbot_id, "flows": flows_table(chatbot, window)})


CSV_COLUMNS = [
    "id",
    "started_at",
    "last_message_at",
    "questions",
    "answers",
    "topic",
    "score",
    "score_reason",
    "judged_by",
    "resolution",
    "resolved_at",
    "ratings_up",
    "ratings_down",
    "stopped_answers",
    "not_found_answers",
    "failed_order_lookups",
]
CSV_METRICS = [
    "errors",
    "ttft_mean_ms",
    "ttft_max_ms",
    "tokens_per_s_mean",
    "total_mean_ms",
    "output_tokens",
    "flows",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(value)
    text = str(value)
    # A spreadsheet would run a cell starting like a formula (the score reason is model text).
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS + CSV_METRICS)
    for row in rows:
        metrics = row["metrics"]
        yield writer.writerow([_cell(row[c]) for c in CSV_COLUMNS] + [_cell(metrics[c]) for c in CSV_METRICS])


async def _streamed(lines: Iterator[str], chunk: int = 500) -> AsyncIterator[str]:
    """The export's lines read on the sync thread a chunk at a time, so that ASGI streams them
    instead of collecting the whole export first (what it does with a sync iterator)."""

    def take() -> str:
        return "".join(line for _, line in zip(range(chunk), lines, strict=False))

    while part := await sync_to_async(take, thread_sensitive=True)():
        yield part


class ConversationsApi(_AnalyticsApi):
    query_serializer = ConversationsQuery

    @extend_schema(
        operation_id="analytics_conversations",
        parameters=[
            *_WINDOW_PARAMETERS,
            OpenApiParameter("format", str, enum=["json", "csv"], description="csv streams every row."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="At most 200; 50 by default."),
        ],
        responses={200: OpenApiTypes.OBJECT, **_ERRORS},
        description="The conversations behind a dashboard figure: the window plus the figure's "
        "filters (topic, analysed, scored, score_min/max, resolution, answered, flow, status, error, "
        "stopped, not_found, rating, order_lookup), newest first, with topic, score, resolution and "
        "their answers' metrics.",
    )
    def get(self, request: Request):
        chatbot, window, query = self.resolve(request)
        filters = Filters(
            **{
                name: (query[name] == "true") if query[name] in _BOOLEAN else query[name]
                for name in Filters.__dataclass_fields__
                if name in query
            }
        )
        insights = conversations_query(chatbot, window, filters)
        if query["format"] == "csv":
            lines = csv_lines(conversation_rows(insights))
            content = _streamed(lines) if isinstance(request._request, ASGIRequest) else lines
            response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
            name = f"conversations-{chatbot.chatbot_id}-{window.start:%Y%m%d}-{window.end:%Y%m%d}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        page, size = query["page"], query["page_size"]
        count = insights.count()
        rows = rows_with_metrics(list(insights[(page - 1) * size : page * size]))
        return Response({"count": count, "page": page, "page_size": size, "results": rows})
