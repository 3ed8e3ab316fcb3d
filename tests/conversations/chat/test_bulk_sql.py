import uuid

import pytest
from django.db import IntegrityError, connection

from conversations.chat import bulk_sql
from conversations.chat.models import Conversation, Message
from tests.conversations.factories import ChatbotFactory


@pytest.mark.parametrize("constant", ["it's", "100%", 1.5, True, None])
def test_a_constant_that_is_not_a_plain_string_or_integer_is_refused(constant):
    with pytest.raises((TypeError, ValueError)):
        bulk_sql.insert(Conversation, ("id",), [("x",)], constants={"origin": constant})


@pytest.mark.django_db
def test_nothing_to_write_runs_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        bulk_sql.run_together(bulk_sql.insert(Conversation, ("id",), []), None)


@pytest.mark.django_db(transaction=True)
def test_statements_run_together_are_written_all_or_none():
    chatbot = ChatbotFactory()
    as_uuid = bulk_sql.uuid_param()
    conversation_id = uuid.uuid4()
    conversation = bulk_sql.insert(
        Conversation,
        ("id", "chatbot", "token_hash", "origin", "created_at", "updated_at"),
        [(as_uuid(conversation_id), chatbot.pk, "f" * 64, "", "2026-11-21", "2026-11-21")],
    )
    orphan = bulk_sql.insert(
        Message,
        ("id", "conversation", "created_at"),
        [(as_uuid(uuid.uuid4()), as_uuid(uuid.uuid4()), "2026-11-21")],  # no such conversation
        constants={
            "role": "user",
            "text": "",
            "status": "completed",
            "client_id": "",
            "flow": "",
            "route_reason": "",
            "sources": "[]",
            "error_code": "",
            "metrics": "{}",
        },
    )

    with pytest.raises(IntegrityError):
        bulk_sql.run_together(conversation, orphan)

    assert not Conversation.objects.filter(id=conversation_id).exists()


@pytest.mark.django_db
def test_one_update_of_many_rows_is_postgresql_only():
    if connection.vendor == "postgresql":
        statement = bulk_sql.update(Conversation, "id", ("origin",), [(uuid.uuid4(), "x")])
        assert statement.sql.startswith('UPDATE "conversations_conversation" AS t SET "origin" = v."origin"')
    else:
        with pytest.raises(NotImplementedError):
            bulk_sql.update(Conversation, "id", ("origin",), [(uuid.uuid4(), "x")])


@pytest.mark.django_db
def test_more_rows_than_one_statement_takes_are_written_in_chunks():
    chunks = []
    write = bulk_sql.in_statements(lambda items: chunks.append(len(items)))

    write(list(range(2 * bulk_sql.ROWS_PER_STATEMENT + 1)))
    write([1, 2])

    assert chunks == [bulk_sql.ROWS_PER_STATEMENT, bulk_sql.ROWS_PER_STATEMENT, 1, 2]
