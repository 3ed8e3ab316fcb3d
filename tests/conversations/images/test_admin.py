"""Uploads in admin: listed per chatbot with a thumbnail, description, size and conversation."""

import pytest
from django.contrib.auth.models import Permission

from conversations.admin import ConversationAdmin
from conversations.chat.services import conversation_create
from conversations.images.admin import ImageUploadInline
from conversations.images.services import image_upload_create
from conversations.models import ImageUpload
from tests.conversations.factories import ChatbotFactory
from tests.conversations.images.conftest import sample, upload

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/conversations/imageupload/"


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.AI_PROVIDER = "local"


@pytest.fixture
def image(chatbot) -> ImageUpload:
    conversation, _ = conversation_create(chatbot=chatbot)
    return image_upload_create(
        chatbot=chatbot, conversation=conversation, uploaded_file=upload("b.png", sample("broken-bottle.png"))
    )


def test_the_list_shows_thumbnail_description_size_and_conversation(staff_client, image):
    html = staff_client.get(LIST_URL).content.decode()

    assert f'<img src="/admin/conversations/imageupload/{image.pk}/file/"' in html
    assert image.description[:40] in html
    assert "4.8\xa0KB" in html or "4,8\xa0KB" in html
    assert f"/admin/conversations/conversation/{image.conversation_id}/change/" in html
    assert "480 x 640" in html


def test_the_list_is_filtered_per_chatbot(staff_client, image):
    other = image_upload_create(
        chatbot=ChatbotFactory(chatbot_id="other"), uploaded_file=upload("l.gif", sample("label.gif"))
    )

    html = staff_client.get(LIST_URL, {"chatbot__id__exact": image.chatbot_id}).content.decode()

    assert str(image.pk) in html
    assert str(other.pk) not in html


def test_staff_see_the_stored_picture(staff_client, image, media_files):
    response = staff_client.get(f"{LIST_URL}{image.pk}/file/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    [stored] = media_files()
    assert b"".join(response.streaming_content) == stored.read_bytes()


def test_the_picture_is_not_public(client, image):
    response = client.get(f"{LIST_URL}{image.pk}/file/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_view_permission_do_not_see_pictures(client, django_user_model, image):
    user = django_user_model.objects.create_user(username="helper", password="x", is_staff=True)
    client.force_login(user)

    assert client.get(f"{LIST_URL}{image.pk}/file/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_imageupload"))
    assert client.get(f"{LIST_URL}{image.pk}/file/").status_code == 200


def test_the_detail_page_is_read_only_with_a_preview(staff_client, image):
    html = staff_client.get(f"{LIST_URL}{image.pk}/change/").content.decode()

    assert 'style="max-width:480px' in html
    assert image.description in html
    assert 'name="description"' not in html  # no input: read only
    assert staff_client.get(f"{LIST_URL}add/").status_code == 403


def test_deleting_in_admin_deletes_the_file(staff_client, image, media_files):
    response = staff_client.post(f"{LIST_URL}{image.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not ImageUpload.objects.exists()
    assert media_files() == []


def test_bulk_deleting_in_admin_deletes_the_files(staff_client, image, media_files):
    response = staff_client.post(
        LIST_URL, {"action": "delete_selected", "_selected_action": [str(image.pk)], "post": "yes"}
    )

    assert response.status_code == 302
    assert not ImageUpload.objects.exists()
    assert media_files() == []


def test_the_inline_shows_a_conversations_images_with_their_descriptions(staff_client, image, monkeypatch):
    monkeypatch.setattr(ConversationAdmin, "inlines", [*ConversationAdmin.inlines, ImageUploadInline])

    html = staff_client.get(
        f"/admin/conversations/conversation/{image.conversation_id}/change/"
    ).content.decode()

    assert f'<img src="/admin/conversations/imageupload/{image.pk}/file/"' in html
    assert image.description in html
