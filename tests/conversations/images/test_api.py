"""REST: POST /api/v1/chatbots/<chatbot_id>/images/ for integrations, staff and the widget."""

import io

import pytest

from conversations.chat.conversation_tokens import conversation_token_mint
from conversations.chat.services import conversation_create
from conversations.models import ChatbotAPIKey, Conversation, ImageUpload
from tests.conversations.factories import ChatbotFactory
from tests.conversations.images.conftest import (
    SAMPLE_FORMATS,
    URL,
    animation,
    jpeg_with_gps,
    png_claiming,
    sample,
    upload,
)

pytestmark = pytest.mark.django_db

SHOP = "https://vinbar.example"


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.AI_PROVIDER = "local"


@pytest.fixture
def auth(api_key) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}


@pytest.fixture
def post(client, auth):
    def send(name="bottle.jpg", content=None, headers=None, **fields):
        content = sample("red-wine-bottle.jpg") if content is None else content
        return client.post(
            URL, {"file": upload(name, content), **fields}, **(auth if headers is None else headers)
        )

    return send


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.parametrize(("name", "image_format"), SAMPLE_FORMATS.items())
def test_an_integration_uploads_every_format(post, name, image_format):
    response = post(name=name, content=sample(name))

    assert response.status_code == 201
    body = response.json()
    image = ImageUpload.objects.get()
    assert body == {
        "id": str(image.pk),
        "format": image_format,
        "width": image.width,
        "height": image.height,
        "size": image.size,
        "description": image.description,
        "description_status": "ready",
    }
    assert image_format in body["description"]
    assert image.conversation is None


def test_an_integration_may_name_the_conversation(post, chatbot):
    conversation, _ = conversation_create(chatbot=chatbot)

    response = post(conversation_id=str(conversation.pk))

    assert response.status_code == 201
    assert ImageUpload.objects.get().conversation == conversation


def test_a_conversation_of_another_chatbot_is_not_found(post, media_files):
    other, _ = conversation_create(chatbot=ChatbotFactory(chatbot_id="other"))

    response = post(conversation_id=str(other.pk))

    assert error_of(response) == (404, "conversation_not_found")
    assert media_files() == []


def test_the_widget_uploads_with_its_conversation_token(client, conversation_and_token):
    conversation, token = conversation_and_token

    response = client.post(
        URL, {"file": upload("label.gif", sample("label.gif"))}, HTTP_X_CONVERSATION_TOKEN=token
    )

    assert response.status_code == 201
    assert ImageUpload.objects.get(pk=response.json()["id"]).conversation == conversation


def test_the_widget_may_upload_before_the_first_message_which_stores_the_conversation(client, chatbot):
    conversation_id, token = conversation_token_mint(chatbot_id=chatbot.chatbot_id)  # as on connect
    headers = {"HTTP_X_CONVERSATION_TOKEN": token}

    refused = client.post(URL, {"file": upload("a.txt", b"not an image")}, **headers)
    assert refused.status_code == 415
    assert not Conversation.objects.exists()
    response = client.post(URL, {"file": upload("label.gif", sample("label.gif"))}, **headers)

    assert response.status_code == 201
    conversation = ImageUpload.objects.get(pk=response.json()["id"]).conversation
    assert conversation.id == conversation_id
    assert conversation.chatbot == chatbot


def test_a_wrong_conversation_token_is_refused_in_the_chatbots_language(client, chatbot, media_files):
    conversation_create(chatbot=chatbot)

    response = client.post(
        URL, {"file": upload("label.gif", sample("label.gif"))}, HTTP_X_CONVERSATION_TOKEN="guessed"
    )

    assert error_of(response) == (403, "invalid_conversation_token")
    assert (
        response.json()["error"]["message"] == "Samtalen er ikke længere gyldig. Genindlæs venligst chatten."
    )
    assert media_files() == []


def test_a_token_of_another_chatbots_conversation_is_refused(client, chatbot):
    _, token = conversation_create(chatbot=ChatbotFactory(chatbot_id="other"))

    response = client.post(
        URL, {"file": upload("label.gif", sample("label.gif"))}, HTTP_X_CONVERSATION_TOKEN=token
    )

    assert error_of(response) == (403, "invalid_conversation_token")


def test_the_api_key_of_another_chatbot_is_refused(post, media_files):
    other_key = ChatbotAPIKey.objects.create_key(chatbot=ChatbotFactory(chatbot_id="other"), name="x")[1]

    response = post(headers={"HTTP_AUTHORIZATION": f"Api-Key {other_key}"})

    assert error_of(response) == (403, "permission_denied")
    assert media_files() == []
    assert not ImageUpload.objects.exists()


def test_credentials_are_required(post, chatbot):
    assert error_of(post(headers={})) == (401, "not_authenticated")


def test_staff_may_upload_with_their_session(staff_client, chatbot):
    response = staff_client.post(URL, {"file": upload("a.png", sample("broken-bottle.png"))})

    assert response.status_code == 201


def test_an_unknown_chatbot_answers_as_any_chatbot_the_caller_may_not_use(
    client, auth, conversation_and_token
):
    # An existing chatbot and a missing one must look the same, so that ids cannot be probed.
    _, token = conversation_and_token
    url = "/api/v1/chatbots/nobody/images/"

    def send(**headers):
        return client.post(url, {"file": upload("a.gif", sample("label.gif"))}, **headers)

    assert error_of(send(**auth)) == (403, "permission_denied")
    assert error_of(send()) == (401, "not_authenticated")
    assert error_of(send(HTTP_X_CONVERSATION_TOKEN=token)) == (403, "invalid_conversation_token")
    preflight = client.options(url, HTTP_ORIGIN=SHOP, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert preflight.status_code == 204
    assert "Access-Control-Allow-Origin" not in preflight


def test_an_unknown_chatbot_is_not_found_for_staff(staff_client):
    response = staff_client.post(
        "/api/v1/chatbots/nobody/images/", {"file": upload("a.gif", sample("label.gif"))}
    )

    assert error_of(response) == (404, "chatbot_not_found")


def test_the_file_is_required(client, auth, chatbot):
    response = client.post(URL, {}, **auth)

    assert error_of(response) == (400, "invalid")
    assert "file" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("photo.jpg", b"<?php echo 'not a photo'; ?>", 415, "unsupported_type"),
        ("photo.jpg", b"", 415, "unsupported_type"),
        ("truncated.jpg", sample("red-wine-bottle.jpg")[:4000], 400, "image_corrupt"),
        ("bomb.png", png_claiming(50_000, 50_000), 400, "image_too_large_dimensions"),
        ("long.gif", animation("GIF", frames=51), 400, "image_too_large_dimensions"),
    ],
    ids=["jpg-name-php-content", "empty", "truncated", "pixel-bomb", "too-many-frames"],
)
def test_refusals_have_stable_codes_and_leave_nothing_stored(post, media_files, name, content, status, code):
    response = post(name=name, content=content)

    assert error_of(response) == (status, code)
    assert response.json()["error"]["message"]
    assert media_files() == []
    assert not ImageUpload.objects.exists()


def test_a_file_one_byte_over_the_limit_is_413_and_nothing_is_stored(settings, post, media_files):
    data = sample("red-wine-bottle.jpg")
    settings.IMAGE_MAX_UPLOAD_BYTES = len(data) - 1

    response = post(content=data)

    assert error_of(response) == (413, "file_too_large")
    assert response.json()["error"]["message"].startswith("Billedet er for stort.")
    assert media_files() == []
    assert not ImageUpload.objects.exists()


def test_a_file_of_exactly_the_limit_is_accepted(settings, post):
    data = sample("red-wine-bottle.jpg")
    settings.IMAGE_MAX_UPLOAD_BYTES = len(data)

    assert post(content=data).status_code == 201


class EndlessBody(io.RawIOBase):
    """A request body that would never end, counting what the server reads of it."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = len(buffer)
        buffer[:size] = b"x" * size
        self.bytes_read += size
        return size


def test_a_body_declared_too_large_is_refused_before_it_is_read(client, auth, settings, media_files):
    settings.IMAGE_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    body = EndlessBody()

    response = client.generic(
        "POST",
        URL,
        **auth,
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(500 * 1024 * 1024),
        **{"wsgi.input": body},
    )

    assert error_of(response) == (413, "file_too_large")
    assert body.bytes_read == 0
    assert media_files() == []


def test_the_stored_copy_of_a_photo_with_gps_has_none(post, media_files):
    response = post(name="holiday.jpg", content=jpeg_with_gps())

    assert response.status_code == 201
    [stored] = media_files()
    assert b"Exif" not in stored.read_bytes()
    assert b"PhoneMaker" not in stored.read_bytes()


# --- CORS for the widget on the shop's site ------------------------------------------------------


@pytest.fixture
def shop_chatbot(chatbot):
    chatbot.allowed_origins = [SHOP]
    chatbot.save()
    return chatbot


def test_a_listed_origin_gets_a_preflight_answer(client, shop_chatbot):
    response = client.options(
        URL,
        HTTP_ORIGIN=SHOP,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-conversation-token",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "X-Conversation-Token" in response["Access-Control-Allow-Headers"]
    assert "Origin" in response["Vary"]


def test_an_unlisted_origin_gets_no_cors_headers(client, shop_chatbot):
    response = client.options(
        URL, HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )

    assert "Access-Control-Allow-Origin" not in response


def test_the_widget_on_a_listed_origin_can_read_the_answer_and_the_errors(client, shop_chatbot):
    _, token = conversation_create(chatbot=shop_chatbot)
    headers = {"HTTP_ORIGIN": SHOP, "HTTP_X_CONVERSATION_TOKEN": token}

    created = client.post(URL, {"file": upload("a.gif", sample("label.gif"))}, **headers)
    refused = client.post(URL, {"file": upload("a.jpg", b"nope")}, **headers)

    assert created.status_code == 201
    assert created["Access-Control-Allow-Origin"] == SHOP
    assert error_of(refused) == (415, "unsupported_type")
    assert refused["Access-Control-Allow-Origin"] == SHOP


def test_the_widget_on_an_unlisted_origin_is_refused(client, shop_chatbot, media_files):
    _, token = conversation_create(chatbot=shop_chatbot)

    response = client.post(
        URL,
        {"file": upload("a.gif", sample("label.gif"))},
        HTTP_ORIGIN="https://evil.example",
        HTTP_X_CONVERSATION_TOKEN=token,
    )

    assert error_of(response) == (403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in response
    assert media_files() == []


def test_the_openapi_schema_documents_the_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/chatbots/{chatbot_id}/images/"]["post"]
    assert set(operation["responses"]) >= {"201", "400", "403", "413", "415"}
    assert "ConversationToken" in schema["components"]["securitySchemes"]
    assert set(schema["components"]["schemas"]["ImageUpload"]["properties"]) == {
        "id",
        "format",
        "width",
        "height",
        "size",
        "description",
        "description_status",
    }


def test_a_file_over_the_limit_within_the_multipart_allowance_is_refused_while_parsing(
    client, auth, settings, media_files, monkeypatch
):
    # Declared within the allowance for the multipart framing, so only the upload handler
    # can stop it: the file never reaches the view.
    settings.IMAGE_MAX_UPLOAD_BYTES = 200 * 1024
    monkeypatch.setattr("conversations.images.api.image_upload_create", pytest.fail)
    data = (
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + b"\xff\xd8\xff" + b"\0" * (200 * 1024) + b"\r\n--xyz--\r\n"
    )

    response = client.generic("POST", URL, data, content_type="multipart/form-data; boundary=xyz", **auth)

    assert error_of(response) == (413, "file_too_large")
    assert media_files() == []


def test_a_visitor_past_the_conversations_upload_rate_is_refused_before_anything_is_stored(
    client, shop_chatbot, settings
):
    settings.IMAGE_UPLOAD_RATE_PER_CONVERSATION = "2/hour"
    _, token = conversation_create(chatbot=shop_chatbot)
    _, other_token = conversation_create(chatbot=shop_chatbot)

    def send(conversation_token):
        return client.post(
            URL,
            {"file": upload("a.gif", sample("label.gif"))},
            HTTP_ORIGIN=SHOP,
            HTTP_X_CONVERSATION_TOKEN=conversation_token,
        )

    assert [send(token).status_code for _ in range(2)] == [201, 201]
    refused = send(token)

    assert error_of(refused) == (429, "rate_limited")
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["error"]["message"].startswith("Du har sendt for mange billeder.")
    assert refused["Access-Control-Allow-Origin"] == SHOP
    assert ImageUpload.objects.count() == 2
    assert send(other_token).status_code == 201


def test_new_conversations_do_not_lift_the_per_address_upload_rate(client, shop_chatbot, settings):
    settings.IMAGE_UPLOAD_RATE_PER_ADDRESS = "3/hour"
    tokens = [conversation_create(chatbot=shop_chatbot)[1] for _ in range(4)]

    headers = [{"HTTP_ORIGIN": SHOP, "HTTP_X_CONVERSATION_TOKEN": token} for token in tokens]

    responses = [client.post(URL, {"file": upload("a.gif", sample("label.gif"))}, **each) for each in headers]

    assert [response.status_code for response in responses] == [201, 201, 201, 429]


def test_an_integration_past_its_keys_upload_rate_is_refused(post, chatbot, settings):
    settings.IMAGE_UPLOAD_RATE_PER_API_KEY = "2/hour"
    other_key = ChatbotAPIKey.objects.create_key(chatbot=chatbot, name="another backend")[1]

    statuses = [post().status_code for _ in range(3)]
    other = post(headers={"HTTP_AUTHORIZATION": f"Api-Key {other_key}"})

    assert statuses == [201, 201, 429]
    assert other.status_code == 201
    assert ImageUpload.objects.count() == 3


def test_integrations_are_not_held_to_the_visitor_upload_rates(post, settings):
    settings.IMAGE_UPLOAD_RATE_PER_CONVERSATION = "1/hour"
    settings.IMAGE_UPLOAD_RATE_PER_ADDRESS = "1/hour"

    assert [post().status_code for _ in range(3)] == [201, 201, 201]
