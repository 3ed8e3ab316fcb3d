import asyncio
import uuid
from dataclasses import replace

import pytest
from asgiref.sync import sync_to_async
from django.db import IntegrityError, connection

from chatplatform.ai import request_gate
from chatplatform.ai.request_gate import pending_request_add
from conversations.chat.models import ContextChunk, Conversation, Message, StreamingSession
from conversations.chat.services import conversation_create
from conversations.chat.web_process import process_id
from conversations.chat.writes import (
    AnswerOutcome,
    QuestionRecord,
    QuestionSave,
    answer_save,
    answers_update,
    question_save,
    questions_insert,
)
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db(transaction=True)


def question(conversation_id, text: str = "Fragt til Bornholm?") -> QuestionRecord:
    return QuestionRecord(
        conversation_id=conversation_id,
        user_message_id=uuid.uuid4(),
        answer_id=uuid.uuid4(),
        text=text,
        flow="default",
        route_reason="closest to 'Levering'",
    )


def outcome(record: QuestionRecord, text: str, context: list | None = None) -> AnswerOutcome:
    return AnswerOutcome(
        answer_id=str(record.answer_id),
        conversation_id=record.conversation_id,
        text=text,
        status=Message.Status.COMPLETED,
        sources=[],
        error_code="",
        token_count=len(text.split()),
        event_count=len(text.split()),
        ttft_ms=210.0,
        metrics={"ttft_ms": 210.0},
        context=context or [],
    )


@sync_to_async
def new_conversation():
    conversation, _ = conversation_create(chatbot=ChatbotFactory())
    return conversation


@sync_to_async
def stored(conversation) -> list[tuple[str, str, str]]:
    return list(
        Message.objects.filter(conversation=conversation)
        .order_by("created_at")
        .values_list("role", "status", "text")
    )


async def test_questions_asked_together_are_all_saved_in_order_with_their_placeholders():
    conversations = [await new_conversation() for _ in range(3)]
    records = [question(c.id, f"Spørgsmål {n}") for n, c in enumerate(conversations)]

    await asyncio.gather(*(question_save(record) for record in records))

    for n, conversation in enumerate(conversations):
        assert await stored(conversation) == [
            ("user", "completed", f"Spørgsmål {n}"),
            ("assistant", "streaming", ""),
        ]
    assert await StreamingSession.objects.filter(status="streaming").acount() == 3


async def test_a_question_waits_for_the_requests_being_prepared_then_is_saved_once(monkeypatch):
    monkeypatch.setattr(request_gate, "MAX_WAIT", 5.0)  # a slow machine must not reach the cap
    conversation = await new_conversation()
    timings: dict[str, float] = {}
    save = QuestionSave(question(conversation.id), timings)
    released = False
    announced: list[tuple[bool, list]] = []

    async def announce() -> None:
        announced.append((released, await stored(conversation)))

    mark_sent = pending_request_add()  # another answer of the burst has not sent its request yet
    try:
        save.start(after_requests=announce)
        await asyncio.sleep(0.03)
        assert await stored(conversation) == []
        assert announced == []
    finally:
        released = True
        mark_sent()
    await save
    await save  # awaited again when the answer is saved: same outcome, no second write

    assert [role for role, _, _ in await stored(conversation)] == ["user", "assistant"]
    assert timings["question_save_ms"] >= 30
    # What waits for the same moment runs once, after the requests and before the write.
    assert announced == [(True, [])]


async def test_a_write_that_cannot_be_saved_fails_alone():
    conversation = await new_conversation()
    good, orphan = question(conversation.id), question(uuid.uuid4())  # no such conversation

    results = await asyncio.gather(question_save(good), question_save(orphan), return_exceptions=True)

    assert results[0] is None
    assert isinstance(results[1], Exception)
    assert [role for role, _, _ in await stored(conversation)] == ["user", "assistant"]
    assert await Message.objects.acount() == 2


async def test_answers_are_saved_once_with_their_context_recorded_in_the_background():
    conversation = await new_conversation()
    first, second = question(conversation.id), question(conversation.id, "Returret?")
    await question_save(first)
    await question_save(second)
    chunk = {"id": "kb-1", "index": "faq", "source": "Levering og fragt", "score": 0.8, "text": "95 kr."}

    await asyncio.gather(
        answer_save(outcome(first, "Fragt til Bornholm koster 95 kr.", [chunk])),
        answer_save(outcome(second, "Du har 30 dages returret.")),
    )

    assert [text for _, _, text in await stored(conversation)] == [
        "Fragt til Bornholm?",
        "Fragt til Bornholm koster 95 kr.",
        "Returret?",
        "Du har 30 dages returret.",
    ]
    sessions = [s async for s in StreamingSession.objects.order_by("started_at")]
    assert [(s.status, s.ttft_ms) for s in sessions] == [("completed", 210.0), ("completed", 210.0)]
    chunks = [c async for c in ContextChunk.objects.all()]
    assert [(str(c.message_id), c.rank, c.source) for c in chunks] == [
        (str(first.answer_id), 1, "Levering og fragt")
    ]
    refreshed = await Conversation.objects.aget(id=conversation.id)
    assert refreshed.updated_at > conversation.updated_at


def test_questions_and_placeholders_are_stored_with_every_field_as_the_orm_would_set_it():
    # questions_insert sets the timestamps itself: each column not taken from the record holds
    # the model's own default.
    conversation, _ = conversation_create(chatbot=ChatbotFactory())
    record = question(conversation.id, "Kan I levere til Bornholm?")
    taken = {"id", "conversation", "created_at", "role", "status", "text", "reply_to", "flow", "route_reason"}

    questions_insert([record])

    asked = Message.objects.get(id=record.user_message_id)
    placeholder = Message.objects.get(id=record.answer_id)
    assert (asked.role, asked.status, asked.text) == ("user", "completed", "Kan I levere til Bornholm?")
    assert (placeholder.role, placeholder.status, placeholder.reply_to_id) == (
        "assistant",
        "streaming",
        record.user_message_id,
    )
    assert (placeholder.flow, placeholder.route_reason) == ("default", "closest to 'Levering'")
    assert asked.created_at < placeholder.created_at
    defaults = Message(conversation=conversation)
    for field in Message._meta.concrete_fields:
        if field.name not in taken and field.name != "client_id":
            assert getattr(asked, field.attname) == getattr(defaults, field.attname), field.name
            assert getattr(placeholder, field.attname) == getattr(defaults, field.attname), field.name
    session = StreamingSession.objects.get(message_id=record.answer_id)
    session_defaults = StreamingSession(message=placeholder)
    for field in StreamingSession._meta.concrete_fields:
        if field.name not in {"id", "message", "started_at", "owner"}:
            assert getattr(session, field.attname) == getattr(session_defaults, field.attname), field.name
    assert session.started_at == placeholder.created_at
    assert session.owner == process_id()  # so that the sweeper knows whose heartbeat to check


def test_a_client_id_is_kept_on_the_question_only():
    conversation, _ = conversation_create(chatbot=ChatbotFactory())
    record = QuestionRecord(
        conversation_id=conversation.id,
        user_message_id=uuid.uuid4(),
        answer_id=uuid.uuid4(),
        text="Hvornår kommer min ordre?",
        client_id="c-42",
    )

    questions_insert([record])

    assert Message.objects.get(id=record.user_message_id).client_id == "c-42"
    assert Message.objects.get(id=record.answer_id).client_id == ""


def test_answers_ending_together_each_keep_their_own_outcome():
    conversation, _ = conversation_create(chatbot=ChatbotFactory())
    other, _ = conversation_create(chatbot=ChatbotFactory())
    first, second, third = question(conversation.id), question(conversation.id), question(other.id)
    questions_insert([first, second, third])
    source = {"title": "Levering og fragt", "url": "https://shop.example/fragt", "score": 0.81}

    answers_update(
        [
            replace(
                outcome(first, "Fragt koster 95 kr."), sources=[source], metrics={"ttft_ms": 5.5, "flow": "æ"}
            ),
            replace(outcome(second, "Fragt"), status="stopped", ttft_ms=None),
            replace(
                outcome(third, ""),
                status="failed",
                error_code="provider_timeout",
                token_count=0,
                ttft_ms=None,
            ),
        ]
    )

    answers = {m.id: m for m in Message.objects.filter(role="assistant")}
    assert (answers[first.answer_id].text, answers[first.answer_id].status) == (
        "Fragt koster 95 kr.",
        "completed",
    )
    assert answers[first.answer_id].sources == [source]
    assert answers[first.answer_id].metrics == {"ttft_ms": 5.5, "flow": "æ"}
    assert (answers[second.answer_id].text, answers[second.answer_id].status) == ("Fragt", "stopped")
    assert (answers[third.answer_id].status, answers[third.answer_id].error_code) == (
        "failed",
        "provider_timeout",
    )
    sessions = {s.message_id: s for s in StreamingSession.objects.all()}
    assert [
        (sessions[r.answer_id].status, sessions[r.answer_id].ttft_ms) for r in (first, second, third)
    ] == [
        ("completed", 210.0),
        ("stopped", None),
        ("failed", None),
    ]
    assert sessions[first.answer_id].token_count == 4
    assert all(s.ended_at is not None for s in sessions.values())
    assert Conversation.objects.get(id=other.id).updated_at > other.updated_at


@pytest.fixture
def session_update_fails_once(transactional_db, postgres_url):
    """The next UPDATE of a streaming session fails as a lost connection does (08006); a
    sequence counts across the rolled-back attempt, so the one after goes through."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE SEQUENCE session_updates")
        cursor.execute(
            "CREATE FUNCTION fail_once() RETURNS trigger AS $$ BEGIN "
            "IF nextval('session_updates') = 1 THEN "
            "RAISE EXCEPTION 'connection lost for the test' USING ERRCODE = '08006'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER fail_once BEFORE UPDATE ON conversations_streamingsession "
            "FOR EACH ROW EXECUTE FUNCTION fail_once()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER fail_once ON conversations_streamingsession")
        cursor.execute("DROP FUNCTION fail_once()")
        cursor.execute("DROP SEQUENCE session_updates")


async def test_an_answer_write_that_lost_its_connection_is_tried_again(session_update_fails_once):
    conversation = await new_conversation()
    record = question(conversation.id)
    await question_save(record)

    await answer_save(outcome(record, "Fragt til Bornholm koster 95 kr."))

    assert await stored(conversation) == [
        ("user", "completed", "Fragt til Bornholm?"),
        ("assistant", "completed", "Fragt til Bornholm koster 95 kr."),
    ]


def test_a_new_conversation_is_stored_with_its_first_question_all_or_nothing():
    chatbot = ChatbotFactory()
    new = Conversation(id=uuid.uuid4(), chatbot=chatbot, token_hash="h1", origin="https://shop.example")
    first = replace(question(new.id), conversation=new)

    questions_insert([first])

    assert Conversation.objects.get(id=new.id).origin == "https://shop.example"
    assert Message.objects.filter(conversation_id=new.id).count() == 2

    # Stored meanwhile by another connection with the same token: left as it is.
    again = Conversation(id=new.id, chatbot=chatbot, token_hash="h1", origin="https://other.example")
    questions_insert([replace(question(new.id), conversation=again)])
    assert Conversation.objects.get(id=new.id).origin == "https://shop.example"

    # A question that cannot be stored takes its conversation's row with it.
    lost = Conversation(id=uuid.uuid4(), chatbot=chatbot, token_hash="h2")
    clash = replace(question(lost.id), conversation=lost, user_message_id=first.user_message_id)
    with pytest.raises(IntegrityError):
        questions_insert([clash])
    assert not Conversation.objects.filter(id=lost.id).exists()
