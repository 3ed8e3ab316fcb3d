"""The served OpenAPI schema documents every error an operation can give, its enums and SSE."""

import pytest

pytestmark = pytest.mark.django_db

CHATBOT = "/api/v1/chatbots/{chatbot_id}"
CONVERSATION = f"{CHATBOT}/conversations/{{conversation_id}}"
SESSION = "/api/v1/tutor/sessions/{session_id}"

# The error statuses each operation can answer (read from the views and the services they call).
ERRORS = {
    ("get", f"{CHATBOT}/"): {401, 403, 404},
    ("post", f"{CHATBOT}/conversations/"): {401, 403, 404},
    ("get", f"{CONVERSATION}/"): {401, 403, 404},
    ("post", f"{CONVERSATION}/messages/"): {400, 401, 403, 404, 406, 409, 413, 415, 502, 503, 504},
    ("post", f"{CONVERSATION}/messages/{{message_id}}/rating/"): {400, 401, 403, 404, 409, 413, 415},
    ("get", f"{CHATBOT}/documents/"): {400, 401, 403, 404},
    ("post", f"{CHATBOT}/documents/"): {400, 401, 403, 404, 413, 415},
    ("get", f"{CHATBOT}/documents/{{document_id}}/"): {401, 403, 404},
    ("delete", f"{CHATBOT}/documents/{{document_id}}/"): {401, 403, 404, 503},
    ("post", f"{CHATBOT}/images/"): {400, 401, 403, 404, 413, 415, 429},
    ("post", f"{CHATBOT}/orders/lookup/"): {400, 401, 403, 404, 409, 413, 415, 429, 502, 503},
    ("get", "/api/v1/jobs/"): {400, 401, 403},
    ("post", "/api/v1/jobs/"): {400, 401, 403},
    ("get", "/api/v1/jobs/kinds/"): {401, 403},
    ("get", "/api/v1/jobs/{job_id}/"): {401, 403, 404},
    ("post", "/api/v1/jobs/{job_id}/cancel/"): {401, 403, 404, 409},
    ("post", "/api/v1/jobs/{job_id}/retry/"): {401, 403, 404, 409},
    ("get", "/api/v1/tutor/sessions/{session_id}/analysis/"): {401, 404},
    ("post", "/api/v1/tutor/sessions/{session_id}/analysis/"): {401, 404, 409},
    ("get", "/api/v1/tutor/sessions/{session_id}/lesson/"): {401, 404},
    ("post", "/api/v1/tutor/sessions/{session_id}/lesson/"): {401, 404, 409},
    ("get", "/api/v1/tutor/sessions/{session_id}/quiz/"): {400, 401, 404},
    ("post", "/api/v1/tutor/sessions/{session_id}/quiz/"): {400, 401, 404, 409, 422},
    ("get", "/api/v1/analytics/dashboard/"): {400, 401, 403, 404},
    ("get", "/api/v1/analytics/flows/"): {400, 401, 403, 404},
    ("get", "/api/v1/analytics/conversations/"): {400, 401, 403, 404},
    ("post", "/api/v1/auth/token/"): {400, 429},
    ("post", "/api/v1/auth/token/revoke/"): {400, 401},
    ("get", "/api/v1/tutor/sessions/"): {400, 401},
    ("post", "/api/v1/tutor/sessions/"): {400, 401},
    ("get", f"{SESSION}/"): {401, 404},
    ("patch", f"{SESSION}/"): {400, 401, 404},
    ("post", f"{SESSION}/archive/"): {401, 404},
    ("get", f"{SESSION}/documents/"): {401, 404},
    ("post", f"{SESSION}/documents/"): {400, 401, 404, 409, 413, 415},
    ("get", f"{SESSION}/documents/{{document_id}}/"): {401, 404},
    ("get", "/api/v1/tutor/staff/analytics/"): {400, 401, 403},
    ("get", f"{SESSION}/events/quiz-attempts/"): {401, 404},
    ("post", f"{SESSION}/events/quiz-attempts/"): {400, 401, 404},
    ("get", f"{SESSION}/events/summaries/"): {401, 404},
    ("post", f"{SESSION}/events/summaries/"): {400, 401, 404, 409},
    ("get", f"{SESSION}/logs/"): {400, 401, 404},
    ("get", f"{SESSION}/analytics/"): {401, 404},
    ("post", f"{SESSION}/analytics/refresh/"): {401, 404},
    ("get", "/api/v1/tutor/me/analytics/"): {401},
}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield (method, path), operation


def test_every_api_operation_is_listed_here(schema):
    assert {key for key, _ in operations(schema)} == set(ERRORS)


@pytest.mark.parametrize("key", sorted(ERRORS), ids=lambda key: f"{key[0]} {key[1]}")
def test_each_operation_documents_every_error_it_can_give_in_the_error_shape(schema, key):
    method, path = key
    responses = schema["paths"][path][method]["responses"]

    documented = {int(status) for status in responses if int(status) >= 400}
    assert ERRORS[key] <= documented, f"undocumented: {sorted(ERRORS[key] - documented)}"
    for status in documented:
        content = responses[str(status)]["content"]["application/json"]["schema"]
        assert content == {"$ref": "#/components/schemas/Error"}, status


def test_the_error_shape_is_a_component(schema):
    error = schema["components"]["schemas"]["Error"]
    detail = schema["components"]["schemas"]["ErrorDetail"]

    assert error["required"] == ["error"]
    assert set(detail["properties"]) == {"code", "message", "fields"}


def test_the_message_endpoint_documents_server_sent_events(schema):
    answer = schema["paths"][f"{CONVERSATION}/messages/"]["post"]["responses"]["200"]["content"]

    assert set(answer) == {"application/json", "text/event-stream"}
    assert answer["text/event-stream"]["schema"]["type"] == "string"


def _enum_of(schema, component: str, field: str) -> list[str]:
    prop = schema["components"]["schemas"][component]["properties"][field]
    refs = [prop.get("$ref")] + [part.get("$ref") for part in prop.get("allOf", []) + prop.get("oneOf", [])]
    for ref in filter(None, refs):
        target = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        if "enum" in target and target["enum"] != [""]:
            return target["enum"]
    return prop.get("enum", [])


@pytest.mark.parametrize(
    ("component", "field", "values"),
    [
        ("ConversationMessage", "role", {"user", "assistant"}),
        ("ConversationMessage", "status", {"streaming", "completed", "stopped", "failed", "interrupted"}),
        ("ConversationMessage", "flow", {"default", "flow2", "flow3", "flow4", "apiflow"}),
        ("Answer", "status", {"completed", "stopped"}),
        ("Answer", "flow", {"default", "flow2", "flow3", "flow4", "apiflow"}),
        ("Order", "status", {"received", "packed", "shipped", "delivered", "cancelled", "unknown"}),
        ("Chatbot", "vector_store", {"pinecone", "local"}),
    ],
)
def test_enum_fields_are_documented_as_enums(schema, component, field, values):
    assert values <= set(_enum_of(schema, component, field))


def test_enum_names_say_what_they_are(schema):
    # drf-spectacular names colliding enums with a hash (`Status844Enum`) unless told otherwise.
    names = [name for name in schema["components"]["schemas"] if name.endswith("Enum")]

    assert "MessageStatusEnum" in names
    assert not [name for name in names if any(char.isdigit() for char in name)]
