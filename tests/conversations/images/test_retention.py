"""Images are deleted, files and rows, when their retention period has passed."""

import importlib
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from chatplatform.celery import app
from conversations.chat.services import conversation_create
from conversations.chat.writes import QuestionRecord, questions_insert
from conversations.images import tasks
from conversations.images.services import image_upload_create, images_delete_expired
from conversations.models import ImageUpload, Message
from tests.conversations.images.conftest import sample, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_provider(settings):
    settings.AI_PROVIDER = "local"
    settings.IMAGE_RETENTION_DAYS = 30


def stored_image(chatbot, age_days: float) -> ImageUpload:
    image = image_upload_create(chatbot=chatbot, uploaded_file=upload("l.gif", sample("label.gif")))
    ImageUpload.objects.filter(pk=image.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    return image


def test_images_past_their_retention_are_deleted_with_their_files(chatbot, media_files):
    old = stored_image(chatbot, age_days=31)
    recent = stored_image(chatbot, age_days=29)

    assert images_delete_expired() == 1

    assert list(ImageUpload.objects.all()) == [recent]
    assert [path.name for path in media_files()] == [recent.file.name.rsplit("/", 1)[1]]
    assert not any(path.as_posix().endswith(old.file.name) for path in media_files())


def test_the_retention_period_is_a_setting(settings, chatbot, media_files):
    settings.IMAGE_RETENTION_DAYS = 1
    stored_image(chatbot, age_days=2)

    assert images_delete_expired() == 1
    assert media_files() == []


def test_a_message_keeps_its_text_when_its_image_expires(chatbot):
    image = stored_image(chatbot, age_days=40)
    conversation, _ = conversation_create(chatbot=chatbot)
    questions_insert(
        [
            QuestionRecord(
                conversation_id=conversation.pk,
                user_message_id=uuid.uuid4(),
                answer_id=uuid.uuid4(),
                text="Se billedet",
                flow="default",
            )
        ]
    )
    question = Message.objects.get(role=Message.Role.USER)
    question.image = image
    question.save()

    images_delete_expired()

    question.refresh_from_db()
    assert question.image is None
    assert question.text == "Se billedet"


def test_a_file_already_gone_does_not_stop_the_clean_up(chatbot, media_files):
    stored_image(chatbot, age_days=31)
    for path in media_files():
        path.unlink()

    assert images_delete_expired() == 1
    assert not ImageUpload.objects.exists()


def test_the_task_deletes_expired_images(chatbot, media_files):
    stored_image(chatbot, age_days=31)

    assert tasks.images_delete_expired.delay().get() == 1
    assert media_files() == []


def test_the_task_runs_on_the_maintenance_queue():
    route = app.amqp.router.route({}, "conversations.images.tasks.images_delete_expired")

    assert tasks.images_delete_expired.name == "conversations.images.tasks.images_delete_expired"
    assert route["queue"].name == "maintenance"


def test_the_clean_up_is_scheduled_every_hour():
    task = PeriodicTask.objects.get(name="Delete expired images")

    assert task.task == "conversations.images.tasks.images_delete_expired"
    assert (task.interval.every, task.interval.period) == (1, "hours")
    assert task.enabled


def test_the_schedule_migration_is_idempotent_and_reversible():
    migration = importlib.import_module("conversations.migrations.0004_image_retention_schedule")

    migration.schedule_create(apps, None)
    assert PeriodicTask.objects.filter(name="Delete expired images").count() == 1
    migration.schedule_delete(apps, None)
    assert not PeriodicTask.objects.filter(name="Delete expired images").exists()
    migration.schedule_create(apps, None)
    assert PeriodicTask.objects.filter(name="Delete expired images").count() == 1
