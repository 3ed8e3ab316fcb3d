"""An answer the client was told is complete is stored; nothing stays `streaming` for ever.

Through the real ASGI application, on the real PostgreSQL and Redis where a test needs them.
"""

import asyncio
import json
import uuid
from datetime import timedelta

import psycopg
import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from chatplatform.event_loops import async_redis
from conversations.chat import answer_buffer
from conversations.chat.answer_buffer import buffer_create, encode, replay_from_redis
from conversations.chat.answer_sweeper import OUTCOME_KEY, OUTCOMES_INDEX, answers_sweep
from conversations.chat.models import Message, StreamingSession, WebProcessHeartbeat
from conversations.chat.services import conversation_create
from conversations.chat.web_process import OWNER_GONE_AFTER_SECONDS, process_id
from conversations.chat.writes import QuestionRecord, questions_insert
from tests.conversations.chat_helpers import connect, events_until_final
from tests.conversations.factories import ChatbotFactory
from tests.fakes.openai_server import Reply
from tests.waiting import until

pytestmark = pytest.mark.django_db(transaction=True)

TOKENS = [f"ord{n} " for n in range(30)]
STABLE_CODES = {"answer_not_saved", "storage_unavailable"}


@pytest.fixture
def chatbot():
    bot = ChatbotFactory(chatbot_id="shop", language="en", topics=[])
    from conversations.flows import chatbot_flows_ensure

    chatbot_flows_ensure(chatbot=bot)
    return bot


@database_sync_to_async
def answer_row(message_id: str) -> tuple[str, str]:
    answer = Message.objects.get(id=message_id)
    return answer.status, answer.text


async def test_the_end_metrics_report_the_providers_token_count(openai_chat, chatbot):
    openai_chat.script(Reply(tokens=["Fragt ", "koster ", "49 kr."], usage=(120, 7)))
    comm, _ = await connect("shop")
    await comm.send_to(text_data=json.dumps({"type": "message", "text": "How much is shipping?"}))

    end = (await events_until_final(comm))[-1]

    assert end["type"] == "end"
    assert end["metrics"]["tokens"] == 7
    assert "tokens_estimated" not in end["metrics"]
    await comm.disconnect()


async def test_counted_token_events_are_marked_as_estimated(openai_settings, openai_server, chatbot):
    # The embeddings fail (the router's of the flows, then retrieval's of the question): the
    # answer is the fixed knowledge-base notice, counted, not the provider's.
    openai_server.script(Reply(status=503), times=2)
    comm, _ = await connect("shop")
    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Do you ship to Bornholm?"}))

    events = await events_until_final(comm)

    end = events[-1]
    assert end["notice"] == "knowledge_base_unavailable"
    assert end["metrics"]["tokens"] == sum(event["type"] == "token" for event in events)
    assert end["metrics"]["tokens_estimated"] is True
    answer = await Message.objects.aget(id=end["message_id"])
    assert (answer.status, answer.error_code) == ("completed", "")
    assert answer.metrics["retrieval_error"] == "provider_unavailable"
    await comm.disconnect()


async def test_an_answer_stopped_without_its_knowledge_base_ends_stopped_without_a_notice(
    openai_settings, openai_server, chatbot
):
    openai_server.script(Reply(status=503, hang=1.0))  # the question's embedding, slowly
    comm, _ = await connect("shop")
    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Do you ship to Aarhus?"}))
    await until(lambda: any(r.path.endswith("/embeddings") for r in openai_server.requests))
    await comm.send_to(text_data=json.dumps({"type": "stop"}))

    end = (await events_until_final(comm))[-1]

    assert (end["type"], end["status"]) == ("end", "stopped")
    assert "notice" not in end
    answer = await Message.objects.aget(id=end["message_id"])
    assert (answer.status, answer.error_code) == ("stopped", "")
    await comm.disconnect()


# -- PostgreSQL connections terminated while answers stream -----------------------------------


def _terminate_app_connections(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as admin:
        return len(
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        )


async def _one_round(conninfo: str, size: int) -> list[dict]:
    comms = [(await connect("shop"))[0] for _ in range(size)]
    for n, comm in enumerate(comms):
        await comm.send_to(text_data=json.dumps({"type": "message", "text": f"Where is order {n}?"}))
    seen = []
    for comm in comms:  # every answer has its question stored and streams
        events = [await comm.receive_json_from(timeout=10)]
        while events[-1]["type"] not in {"token", "end", "error"}:
            events.append(await comm.receive_json_from(timeout=10))
        seen.append(events)
    await sync_to_async(_terminate_app_connections)(conninfo)
    finals = []
    for comm, events in zip(comms, seen, strict=True):
        if events[-1]["type"] == "token":
            events += await events_until_final(comm)
        finals.append({**events[-1], "message_id": events[0].get("message_id", "")})
        await comm.disconnect()
    return finals


@pytest.fixture
def test_database(transactional_db, postgres_url):
    """A conninfo of the test database, for a connection of its own."""
    yield psycopg.conninfo.make_conninfo(postgres_url, dbname=connection.settings_dict["NAME"])
    # This thread's connection was terminated too; the flush after the test needs a live one.
    connection.close()


async def test_every_answer_that_ended_is_stored_when_the_database_connections_are_terminated(
    test_database, openai_chat, chatbot, capsys
):
    openai_chat.script(Reply(tokens=TOKENS, interval=0.01), times=30)

    finals = []
    for _ in range(3):  # 30 answers, 10 at a time
        finals += await _one_round(test_database, 10)

    ended = [final for final in finals if final["type"] == "end"]
    for final in ended:
        assert await answer_row(final["message_id"]) == ("completed", final["text"])
    failed = [final for final in finals if final["type"] == "error"]
    assert {final["code"] for final in failed} <= STABLE_CODES
    left = await StreamingSession.objects.filter(status="streaming").acount()
    with capsys.disabled():
        print(f"\n30 answers: {len(ended)} end and stored, {len(failed)} error, {left} left streaming")


# -- a final write that cannot succeed ---------------------------------------------------------


@pytest.fixture
def answer_writes_broken(transactional_db, postgres_url):
    """Every UPDATE of a streaming session fails as a lost connection does (08006, which the
    writer retries on another connection); `answer_writes_broken()` mends them."""

    def execute(*statements: str) -> None:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    execute(
        "CREATE FUNCTION refuse_update() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'refused for the test' USING ERRCODE = '08006'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_update BEFORE UPDATE ON conversations_streamingsession "
        "FOR EACH ROW EXECUTE FUNCTION refuse_update()",
    )
    mended = False

    def mend() -> None:
        nonlocal mended
        if not mended:
            execute(
                "DROP TRIGGER refuse_update ON conversations_streamingsession",
                "DROP FUNCTION refuse_update()",
            )
            mended = True

    yield mend
    mend()


async def test_an_answer_that_cannot_be_stored_ends_with_answer_not_saved_and_the_sweeper_stores_it(
    answer_writes_broken, redis_url, settings, openai_chat, chatbot
):
    settings.REDIS_URL = redis_url
    openai_chat.script(Reply(tokens=["Fragt ", "koster ", "49 kr."]))
    comm, _ = await connect("shop")
    await comm.send_to(text_data=json.dumps({"type": "message", "text": "How much is shipping?"}))

    events = await events_until_final(comm)
    await comm.disconnect()

    final = events[-1]
    assert final["type"] == "error"
    assert final["code"] == "answer_not_saved"
    answer_id = final["message_id"]
    assert await answer_row(answer_id) == ("streaming", "")
    assert await async_redis().exists(OUTCOME_KEY.format(answer_id))

    await sync_to_async(answer_writes_broken)()
    result = await sync_to_async(answers_sweep)()

    assert result.stored == 1
    assert await answer_row(answer_id) == ("completed", "Fragt koster 49 kr.")
    session = await StreamingSession.objects.aget(message_id=answer_id)
    assert (session.status, session.ended_at is not None) == ("completed", True)
    assert not await async_redis().exists(OUTCOME_KEY.format(answer_id))
    assert await async_redis().zscore(OUTCOMES_INDEX, answer_id) is None


# -- answers of a web process that is gone -------------------------------------------------------


async def test_a_process_keeps_its_heartbeat_while_it_answers(openai_chat, chatbot):
    openai_chat.script(Reply(tokens=TOKENS, interval=0.01))
    comm, _ = await connect("shop")
    await comm.send_to(text_data=json.dumps({"type": "message", "text": "Where is my order?"}))
    events = await events_until_final(comm)
    await comm.disconnect()

    async with asyncio.timeout(10):  # written by a task of its own, which may come last
        while not await WebProcessHeartbeat.objects.filter(process_id=process_id()).aexists():
            await asyncio.sleep(0.01)
    beat = await WebProcessHeartbeat.objects.aget(process_id=process_id())
    assert timezone.now() - beat.beat_at < timedelta(seconds=OWNER_GONE_AFTER_SECONDS)
    session = await StreamingSession.objects.aget(message_id=events[-1]["message_id"])
    assert session.owner == process_id()


@sync_to_async
def streaming_answers(owners: list[str], minutes_ago: int = 5) -> list[uuid.UUID]:
    """One streaming answer per owner, begun `minutes_ago`."""
    conversation, _ = conversation_create(chatbot=ChatbotFactory())
    records = [
        QuestionRecord(
            conversation_id=conversation.id,
            user_message_id=uuid.uuid4(),
            answer_id=uuid.uuid4(),
            text="Hvor er min ordre?",
        )
        for _ in owners
    ]
    questions_insert(records)
    started = timezone.now() - timedelta(minutes=minutes_ago)
    for record, owner in zip(records, owners, strict=True):
        StreamingSession.objects.filter(message_id=record.answer_id).update(owner=owner, started_at=started)
    WebProcessHeartbeat.objects.update_or_create(
        process_id="web-a:41:dead", defaults={"beat_at": timezone.now() - timedelta(minutes=5)}
    )
    WebProcessHeartbeat.objects.update_or_create(
        process_id="web-b:42:alive", defaults={"beat_at": timezone.now()}
    )
    return [record.answer_id for record in records]


async def test_answers_of_a_process_that_is_gone_are_interrupted_with_the_mirrors_text(redis_url, settings):
    settings.REDIS_URL = redis_url
    dead, alive, unknown = await streaming_answers(["web-a:41:dead", "web-b:42:alive", "web-c:43:x"])
    buffer = buffer_create(str(dead))
    await buffer.publish_start(encode({"type": "start", "message_id": str(dead), "flow": "default"}))
    for piece in ("Din ordre ", "er sendt ", "med GLS"):
        await buffer.publish_token(piece)
    await answer_buffer._mirror().flush(buffer)

    result = await sync_to_async(answers_sweep)()

    assert result.interrupted == 2
    assert await answer_row(str(dead)) == ("interrupted", "Din ordre er sendt med GLS")
    assert await answer_row(str(unknown)) == ("interrupted", "")  # no mirror: nothing to keep
    assert await answer_row(str(alive)) == ("streaming", "")
    session = await StreamingSession.objects.aget(message_id=dead)
    assert (session.status, session.event_count, session.error_code) == (
        "interrupted",
        3,
        "answer_interrupted",
    )
    assert (await sync_to_async(answers_sweep)()).interrupted == 0  # once is enough
    # A client resuming the answer from the mirror learns that it ended.
    replay = await replay_from_redis(str(dead), after_seq=3)
    assert [json.loads(frame)["type"] async for frame in replay] == ["start", "error"]


async def test_an_answer_streaming_for_too_long_is_interrupted_even_if_its_process_lives(settings):
    settings.REDIS_URL = ""
    (lost,) = await streaming_answers(["web-b:42:alive"], minutes_ago=20)

    assert (await sync_to_async(answers_sweep)()).interrupted == 1
    assert await answer_row(str(lost)) == ("interrupted", "")


async def test_a_new_answer_of_a_process_not_seen_yet_is_left_streaming(settings):
    settings.REDIS_URL = ""
    conversation, _ = await sync_to_async(conversation_create)(chatbot=await sync_to_async(ChatbotFactory)())
    record = QuestionRecord(
        conversation_id=conversation.id, user_message_id=uuid.uuid4(), answer_id=uuid.uuid4(), text="Hej"
    )
    await sync_to_async(questions_insert)([record])

    assert (await sync_to_async(answers_sweep)()).interrupted == 0
    assert await answer_row(str(record.answer_id)) == ("streaming", "")


@pytest.mark.django_db(transaction=False)  # the rows of data migrations are kept
def test_the_sweeper_runs_every_minute_on_the_maintenance_queue():
    from chatplatform.celery import app
    from conversations import tasks

    task = PeriodicTask.objects.get(name="Sweep answers left streaming")

    assert task.task == tasks.answers_sweep.name == "conversations.tasks.answers_sweep"
    assert (task.interval.every, task.interval.period, task.queue) == (1, "minutes", "maintenance")
    assert task.enabled
    assert app.amqp.router.route({}, task.task)["queue"].name == "maintenance"
