import pytest
from django.core.management import call_command

from conversations import models as app_models
from conversations.chat.models import (
    ContextChunk,
    Conversation,
    Message,
    StreamingSession,
    WebProcessHeartbeat,
)


def test_the_chat_models_keep_the_app_and_its_tables():
    for model in (Conversation, Message, StreamingSession, ContextChunk, WebProcessHeartbeat):
        assert model._meta.app_label == "conversations"
        assert model._meta.db_table == f"conversations_{model.__name__.lower()}"
        assert getattr(app_models, model.__name__) is model


@pytest.mark.django_db
def test_moving_the_chat_models_needs_no_migration():
    call_command("makemigrations", "conversations", "--check", "--dry-run", verbosity=0)
