"""Learners' tokens: `POST /api/v1/auth/token/` (username, password) and `.../token/revoke/`."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from chatplatform.errors import ApplicationError
from chatplatform.openapi import api_errors
from tutor.auth import LearnerTokenAuthentication
from tutor.learners import learner_token_create
from tutor.permissions import IsLearner

INVALID_CREDENTIALS = "invalid_credentials"


class TokenThrottle(AnonRateThrottle):
    """Password guessing: a few attempts a minute per address."""

    scope = "tutor_token"
    rate = "20/minute"


class TokenCreateApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema_serializer(component_name="TokenCreateInput")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema_serializer(component_name="Token")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="Send it as `Authorization: Bearer <token>`.")
        expiry = serializers.DateTimeField(help_text="When the token stops working.")

    @extend_schema(
        operation_id="auth_token_create",
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            **api_errors(400, 429, notes={400: "Or a wrong username or password (`invalid_credentials`)."}),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None or not user.is_active:
            raise ApplicationError(INVALID_CREDENTIALS, "The username or password is wrong.")
        instance, token = learner_token_create(user)
        return Response(
            self.OutputSerializer({"token": token, "expiry": instance.expiry}).data,
            status=status.HTTP_201_CREATED,
        )


class TokenRevokeApi(APIView):
    authentication_classes = [LearnerTokenAuthentication]
    permission_classes = [IsLearner]

    @extend_schema_serializer(component_name="TokenRevokeInput")
    class InputSerializer(serializers.Serializer):
        all = serializers.BooleanField(default=False, help_text="Revoke every token of the learner.")

    @extend_schema(
        operation_id="auth_token_revoke",
        request=InputSerializer,
        responses={204: None, **api_errors(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["all"]:
            request.user.auth_token_set.all().delete()
        else:
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
