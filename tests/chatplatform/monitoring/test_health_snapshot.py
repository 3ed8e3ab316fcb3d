"""Health snapshots: checks, workers, queues, the scheduler and the apps' facts."""

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from chatplatform.monitoring import probes
from chatplatform.monitoring.facts import register_fact, registered_facts
from chatplatform.monitoring.models import HealthSnapshot
from chatplatform.monitoring.services import take_snapshot
from conversations.chat.models import Conversation, Message
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db

STOPPED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def file_broker(settings, tmp_path, monkeypatch):
    """An embedded broker folder of the test's own, where no worker listens."""
    folder = tmp_path / "broker"
    for sub in ("", "processed", "control"):
        (folder / sub).mkdir(exist_ok=True)
    settings.CELERY_BROKER_URL = "filesystem://localhost//"
    settings.CELERY_BROKER_TRANSPORT = "chatplatform.file_broker:Transport"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(folder / "control"),
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
    }
    monkeypatch.setattr(probes, "WORKER_PING_TIMEOUT_SECONDS", 0.3)
    return folder


@pytest.fixture
def facts_kept():
    before = registered_facts()
    yield
    from chatplatform.monitoring import facts

    facts._facts.clear()
    facts._facts.update(before)


def answer(conversation, status, *, minutes_ago=0):
    question = Message.objects.create(conversation=conversation, role=Message.Role.USER, text="?")
    reply = Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, text="!", status=status, reply_to=question
    )
    if minutes_ago:
        when = timezone.now() - timedelta(minutes=minutes_ago)
        Message.objects.filter(pk__in=[question.pk, reply.pk]).update(created_at=when)
    return reply


def conversation_new(chatbot):
    return Conversation.objects.create(chatbot=chatbot, token_hash=secrets.token_hex(32))


def test_it_stores_the_checks_queues_and_the_chat_facts(file_broker):
    bot = ChatbotFactory()
    busy, failing, old = conversation_new(bot), conversation_new(bot), conversation_new(bot)
    answer(busy, Message.Status.COMPLETED)
    answer(busy, Message.Status.COMPLETED)
    answer(failing, Message.Status.FAILED)
    answer(failing, Message.Status.INTERRUPTED, minutes_ago=1)
    answer(old, Message.Status.FAILED, minutes_ago=30)  # outside the window
    for name in ("1_a.chat.msg", "2_b.chat.msg", "3_c.ingestion.msg", ".4_d.chat.msg.part"):
        (file_broker / name).write_text("{}")

    snapshot = take_snapshot()

    assert HealthSnapshot.objects.get() == snapshot
    assert {name: check["status"] for name, check in snapshot.checks.items()} == {
        "database": "up",
        "cache": "up",
        "broker": "up",
    }
    assert snapshot.queue_depth == {**dict.fromkeys(probes.queue_names(), 0), "chat": 2, "ingestion": 1}
    assert snapshot.active_chats == 2
    assert snapshot.error_rate == 0.5
    assert snapshot.facts["answers"] == 4
    # Nobody listens on this broker: known to be no worker, and so degraded.
    assert snapshot.workers == 0
    assert snapshot.status == "degraded"
    assert "no worker replied" in snapshot.problems
    assert "50% of recent answers failed" in snapshot.problems


def test_it_reports_the_schedulers_last_run_and_a_stale_one(file_broker):
    every_minute = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    last = timezone.now() - timedelta(minutes=25)
    PeriodicTask.objects.create(name="a", task="x", interval=every_minute, last_run_at=last)
    earlier = last - timedelta(hours=1)
    PeriodicTask.objects.create(name="b", task="y", interval=every_minute, last_run_at=earlier)

    snapshot = take_snapshot()

    assert snapshot.last_beat_run_at == last
    assert "the scheduler last ran 25 min ago" in snapshot.problems


def test_a_failing_fact_is_recorded_as_unknown(file_broker, facts_kept):
    def broken(since):
        raise RuntimeError("boom")

    register_fact("broken", broken)
    register_fact("constant", lambda since: 7)

    snapshot = take_snapshot()

    assert snapshot.facts["broken"] is None
    assert snapshot.facts["constant"] == 7
    assert snapshot.error_rate is None  # no answers at all
    assert snapshot.active_chats == 0


def test_a_stopped_redis_is_down_and_its_workers_and_queues_unknown(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": STOPPED_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.CELERY_BROKER_URL = STOPPED_REDIS
    settings.CELERY_BROKER_CONNECTION_TIMEOUT = 0.5

    snapshot = take_snapshot()

    assert snapshot.status == "degraded"
    assert {"cache down", "broker down"} <= set(snapshot.problems)
    assert snapshot.workers is None
    assert "no worker replied" not in snapshot.problems
    assert snapshot.queue_depth == dict.fromkeys(probes.queue_names())
    assert {"chat", "ingestion", "maintenance"} <= set(snapshot.queue_depth)


def test_it_counts_redis_queues_with_their_priority_sub_queues(settings, redis_url):
    settings.CELERY_BROKER_URL = redis_url
    client = redis.Redis.from_url(redis_url)
    keys = ["chat", "chat\x06\x163", "chat\x06\x169", "maintenance"]
    client.delete(*keys)
    try:
        client.rpush("chat", "m1", "m2")
        client.rpush("chat\x06\x163", "m3")
        client.rpush("chat\x06\x169", "m4")
        client.rpush("maintenance", "m5")

        depths = probes.queue_depths()
    finally:
        client.delete(*keys)
        client.close()

    assert depths == {**dict.fromkeys(probes.queue_names(), 0), "chat": 4, "maintenance": 1}


def test_a_running_worker_answers_the_ping_on_the_embedded_broker(file_broker, tmp_path):
    # A real worker whose VAR_DIR holds the test's broker folder.
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "chatplatform",
            "worker",
            "-Q",
            "maintenance",
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "-n",
            "health-test@%h",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(tmp_path), "DATABASE_URL": "", "REDIS_URL": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        replied = None
        # Each ping waits 2 s for replies (the file broker polls once a second); the worker takes
        # a few seconds to start.
        for _attempt in range(20):
            replied = probes.workers_ping(timeout=2.0)
            if replied:
                break
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert replied is not None
    assert [name.split("@")[0] for name in replied] == ["health-test"]
