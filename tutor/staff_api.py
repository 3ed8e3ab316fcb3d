"""`GET /api/v1/tutor/staff/analytics/`: the tutor's staff analytics (staff only)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatplatform.openapi import api_errors
from tutor.auth import LearnerTokenAuthentication
from tutor.staff_analytics import Window, tutor_analytics


class StaffAnalyticsApi(APIView):
    # The token first: its `WWW-Authenticate` makes an anonymous request a 401, not a 403.
    authentication_classes = [LearnerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="TutorStaffAnalyticsFilter")
    class FilterSerializer(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=366, default=30)

    @extend_schema(
        operation_id="tutor_staff_analytics",
        parameters=[OpenApiParameter("days", int, description="The last N days (default 30, at most 366).")],
        responses={
            200: {"type": "object", "description": "documents, embeddings and usage; see docs/tutor.md"},
            **api_errors(400, 401, 403, notes={403: "Staff only."}),
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(tutor_analytics(Window.last_days(filters.validated_data["days"])))
