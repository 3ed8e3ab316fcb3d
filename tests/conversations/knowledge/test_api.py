"""REST: /api/v1/chatbots/<chatbot_id>/documents/ with the chatbot's integration key."""

import pytest

from chatplatform.models import LocalVector
from conversations.models import ChatbotAPIKey, KnowledgeDocument
from tests.conversations.factories import ChatbotFactory
from tests.conversations.knowledge.conftest import SHIPPING_MD, upload

pytestmark = pytest.mark.django_db

URL = "/api/v1/chatbots/vinbar/documents/"


@pytest.fixture
def auth(api_key) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}


@pytest.fixture
def post(client, auth, django_capture_on_commit_callbacks):
    def send(name="shipping.md", content=SHIPPING_MD, url=URL, headers=None, **fields):
        data = {"file": upload(name, content), **fields}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **(auth if headers is None else headers))

    return send


def test_an_integration_uploads_a_document_and_it_is_ingested(post, client, auth):
    response = post(flow="flow3", title="Vin og fragt")

    assert response.status_code == 202
    body = response.json()
    assert body == {
        "id": body["id"],
        "title": "Vin og fragt",
        "source_name": "shipping.md",
        "flow": "flow3",
        "index": "vinbar-pairing",
        "status": "pending",
        "progress": 0,
        "chunk_count": 0,
        "error": "",
        "size": len(SHIPPING_MD.encode()),
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    detail = client.get(f"{URL}{body['id']}/", **auth).json()
    assert detail["status"] == "ready"
    assert detail["progress"] == 100
    assert detail["chunk_count"] == 1
    assert LocalVector.objects.filter(index_name="vinbar-pairing", namespace="vinbar").count() == 1


def test_the_flow_defaults_to_the_general_flow(post):
    assert post().json()["flow"] == "default"


def test_documents_are_listed_newest_first_and_filtered(post, client, auth):
    post(name="a.md", content="# A\n\ntext")
    post(name="b.md", content="# B\n\ntext", flow="flow2")
    KnowledgeDocument.objects.filter(source_name="b.md").update(status="failed", error="boom")

    everything = client.get(URL, **auth).json()
    products = client.get(URL, {"flow": "flow2"}, **auth).json()
    ready = client.get(URL, {"status": "ready"}, **auth).json()

    assert [d["source_name"] for d in everything] == ["b.md", "a.md"]
    assert [d["source_name"] for d in products] == ["b.md"]
    assert [d["source_name"] for d in ready] == ["a.md"]


def test_a_bad_filter_is_refused(client, auth):
    response = client.get(URL, {"status": "lost"}, **auth)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "status" in response.json()["error"]["fields"]


def test_deleting_a_document_removes_its_vectors(post, client, auth, django_capture_on_commit_callbacks):
    document_id = post().json()["id"]
    assert LocalVector.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{URL}{document_id}/", **auth)

    assert response.status_code == 204
    assert not LocalVector.objects.exists()
    assert client.get(f"{URL}{document_id}/", **auth).status_code == 404


def test_another_chatbots_key_is_refused(post, client):
    document_id = post().json()["id"]
    other = ChatbotFactory(chatbot_id="rival")
    _, other_key = ChatbotAPIKey.objects.create_key(chatbot=other, name="rival")
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {other_key}"}

    responses = [
        post(headers=headers),
        client.get(URL, **headers),
        client.get(f"{URL}{document_id}/", **headers),
        client.delete(f"{URL}{document_id}/", **headers),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert responses[0].json()["error"]["code"] == "permission_denied"
    assert KnowledgeDocument.objects.count() == 1


def test_a_document_of_another_chatbot_is_not_found(client, django_capture_on_commit_callbacks, auth):
    rival = ChatbotFactory(chatbot_id="rival")
    from conversations.knowledge.services import knowledge_document_create

    theirs = knowledge_document_create(
        chatbot=rival, flow="default", uploaded_file=upload("x.md", "# X\n\ny"), enqueue=False
    )

    for response in (client.get(f"{URL}{theirs.pk}/", **auth), client.delete(f"{URL}{theirs.pk}/", **auth)):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "document_not_found"
    assert KnowledgeDocument.objects.filter(pk=theirs.pk).exists()


def test_requests_without_a_key_are_refused(client):
    response = client.get(URL)

    assert response.status_code in {401, 403}
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("tool.exe", b"MZ\x00\x00", 400, "unsupported_document_type"),
        ("empty.md", b"", 400, "document_empty"),
        ("broken.pdf", b"%PDF-1.7 nothing else", 400, "document_unreadable"),
        ("huge.md", b"x" * 2048, 413, "document_too_large"),
    ],
)
def test_a_bad_file_is_refused_with_a_stable_code_and_nothing_is_stored(
    post, settings, media_files, name, content, status, code
):
    settings.KB_MAX_UPLOAD_BYTES = 1024

    response = post(name=name, content=content)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not KnowledgeDocument.objects.exists()
    assert media_files() == []


def test_an_upload_without_a_file_or_with_an_unknown_flow_is_invalid(client, auth):
    missing = client.post(URL, {"flow": "default"}, **auth)
    unknown_flow = client.post(URL, {"file": upload("a.md", "# A\n\nb"), "flow": "flow9"}, **auth)

    assert missing.status_code == unknown_flow.status_code == 400
    assert "file" in missing.json()["error"]["fields"]
    assert "flow" in unknown_flow.json()["error"]["fields"]


def test_a_flow_without_an_index_is_refused(post, media_files):
    response = post(flow="flow4")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "flow_index_not_configured"
    assert media_files() == []


def test_staff_may_use_the_api_with_their_session(staff_client, django_capture_on_commit_callbacks):
    ChatbotFactory(chatbot_id="vinbar")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(URL, {"file": upload("a.md", "# A\n\nb")})

    assert response.status_code == 202
    assert staff_client.get(URL).json()[0]["status"] == "ready"


def test_the_schema_describes_the_documents_api(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert set(paths["/api/v1/chatbots/{chatbot_id}/documents/"]) >= {"get", "post"}
    assert set(paths["/api/v1/chatbots/{chatbot_id}/documents/{document_id}/"]) >= {"get", "delete"}
    assert "KnowledgeDocument" in schema["components"]["schemas"]
