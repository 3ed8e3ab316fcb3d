import pytest
from django.test import override_settings
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from chatplatform.errors import ApplicationError
from chatplatform.urls import handler404, handler500  # noqa: F401  (this module is the urlconf)
from chatplatform.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.django_db


class EchoApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    class InputSerializer(serializers.Serializer):
        count = serializers.IntegerField(min_value=1)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["count"] == 13:
            raise ApplicationError("unlucky_number", "13 is not allowed here.", status_code=409)
        if data.validated_data["count"] == 500:
            raise RuntimeError("boom: internal detail")
        return Response({"count": data.validated_data["count"]})


urlpatterns = [path("api/test/echo/", EchoApi.as_view()), *project_urlpatterns]


@pytest.fixture(autouse=True)
def _echo_urls():
    with override_settings(ROOT_URLCONF=__name__):
        yield


def test_validation_errors_name_their_fields(client):
    response = client.post("/api/test/echo/", {"count": 0}, content_type="application/json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "count" in error["fields"]


def test_malformed_json_is_a_stable_code(client):
    response = client.post("/api/test/echo/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_application_errors_keep_their_code_and_status(client):
    response = client.post("/api/test/echo/", {"count": 13}, content_type="application/json")

    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "unlucky_number", "message": "13 is not allowed here.", "fields": {}}
    }


def test_an_unexpected_error_answers_without_a_traceback(client):
    response = client.post("/api/test/echo/", {"count": 500}, content_type="application/json")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "boom" not in response.content.decode()


def test_a_wrong_method_is_a_stable_code(client):
    response = client.get("/api/test/echo/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_an_unknown_api_path_answers_json(client):
    response = client.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/chatbots/{chatbot_id}/" in schema.content
    assert docs.status_code == 200


def test_a_body_over_the_upload_limit_is_413_not_a_server_error(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"count": 1, "padding": "' + "x" * 2000 + '"}'

    response = client.post("/api/test/echo/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
