"""The error responses of the OpenAPI schema: every 4xx and 5xx is the one `Error` shape.

Views list the statuses each operation can give with `api_errors(...)`, so that clients (and the
schema test) can see every refusal an operation has, each with the codes it carries.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable snake_case code; part of the API contract.")
    message = serializers.CharField(help_text="Human text; shoppers' messages are in the chatbot's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field of an `invalid` request; empty otherwise.",
    )

    class Meta:
        ref_name = "ErrorDetail"


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# What each status means across the API; an operation adds its own codes with `notes`.
ERROR_MEANINGS: dict[int, str] = {
    400: "The request is not valid (`invalid`, with `fields`) or not parseable (`malformed_request`).",
    401: "No credentials (`not_authenticated`) or unknown ones (`authentication_failed`).",
    403: "The credentials do not grant access to this chatbot (`permission_denied`), whether or "
    "not it exists.",
    404: "No such chatbot (`chatbot_not_found`; an inactive one included).",
    406: "The `Accept` header asks for a format this operation cannot give (`not_acceptable`).",
    409: "The request conflicts with the current state.",
    413: "The body is larger than the server accepts (`request_too_large`).",
    415: "The body's content type is not supported (`unsupported_media_type`).",
    422: "The request is valid but cannot be carried out with the data at hand.",
    429: "Too many requests (`rate_limited`); `Retry-After` says when to try again.",
    502: "An upstream system refused or failed the request.",
    503: "An upstream system or the storage is unavailable; retrying later may help.",
    504: "An upstream system did not answer in time.",
}


def api_errors(*statuses: int, notes: dict[int, str] | None = None) -> dict[int, OpenApiResponse]:
    """`extend_schema` responses for these error statuses, each the `Error` shape; `notes` add the
    operation's own codes to a status's general meaning."""
    notes = notes or {}
    return {
        status: OpenApiResponse(
            ErrorSerializer, description=" ".join(filter(None, [ERROR_MEANINGS[status], notes.get(status)]))
        )
        for status in statuses
    }


# Every chatbot-scoped operation: credentials, access to the chatbot, and the chatbot itself.
CHATBOT_ERRORS = (401, 403, 404)
