"""The embedding queue: batches, retries with backoff up to a limit, exactly once even when a
worker dies holding a claim, and the search over a session's passages."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django_celery_beat.models import PeriodicTask

from chatplatform import telemetry
from chatplatform.ai.base import PROVIDER_UNAVAILABLE, ProviderError
from chatplatform.ai.local import LocalEmbedder
from tests.tutor.factories import ChunkFactory, DocumentFactory, StudySessionFactory
from tutor.embeddings.queue import (
    backoff_seconds,
    batch_embed,
    chunks_claim,
    embedding_queue_run,
)
from tutor.embeddings.search import chunks_search
from tutor.models import Chunk

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_S = Chunk.EmbeddingStatus


class CountingEmbedder(LocalEmbedder):
    """The local provider, counting how often each passage was embedded; fails `failures` calls."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__(dimension=64)
        self.failures = failures
        self.calls = 0
        self.embedded: dict[str, int] = {}

    def embed(self, texts):
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise ProviderError(PROVIDER_UNAVAILABLE, "The provider is down.")
        for text in texts:
            self.embedded[text] = self.embedded.get(text, 0) + 1
        return super().embed(texts)


class Clock:
    def __init__(self, start=T0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


def passages(count, **kwargs):
    document = DocumentFactory(**kwargs)
    return [ChunkFactory(document=document, text=f"Passage {n} about enzymes.") for n in range(count)]


def statuses():
    return list(Chunk.objects.order_by("pk").values_list("embedding_status", flat=True))


def test_pending_passages_are_embedded_in_batches_and_their_vectors_stored():
    passages(5)
    embedder = CountingEmbedder()
    run = embedding_queue_run(embedder=embedder, batch_size=2)
    assert (run.claimed, run.completed, run.batches) == (5, 5, 3)
    assert embedder.calls == 3
    assert statuses() == [_S.COMPLETED] * 5
    chunk = Chunk.objects.first()
    assert len(bytes(chunk.embedding)) == 64 * 4
    assert (chunk.embedding_model, chunk.embedding_attempts, chunk.embedding_claimed_at) == (
        "local@64",
        1,
        None,
    )


def test_a_failed_batch_waits_longer_each_time_and_fails_at_the_limit():
    passages(2)
    clock = Clock()
    embedder = CountingEmbedder(failures=99)
    embedding_queue_run(embedder=embedder, now=clock, max_attempts=3)
    chunk = Chunk.objects.first()
    assert (chunk.embedding_status, chunk.embedding_attempts) == (_S.PENDING, 1)
    assert chunk.embedding_next_at == T0 + timedelta(seconds=30)
    assert "provider_unavailable" in chunk.embedding_error

    clock.advance(29)  # not due yet: nothing is claimed
    assert embedding_queue_run(embedder=embedder, now=clock, max_attempts=3).claimed == 0
    clock.advance(1)
    embedding_queue_run(embedder=embedder, now=clock, max_attempts=3)
    chunk.refresh_from_db()
    assert chunk.embedding_attempts == 2
    assert chunk.embedding_next_at == clock.now + timedelta(seconds=60)

    clock.advance(60)
    run = embedding_queue_run(embedder=embedder, now=clock, max_attempts=3)
    assert run.failed == 2
    chunk.refresh_from_db()
    assert (chunk.embedding_status, chunk.embedding_attempts) == (_S.FAILED, 3)
    assert chunk.embedding_error.startswith("provider_unavailable")
    assert embedder.calls == 3
    clock.advance(3600)
    assert embedding_queue_run(embedder=embedder, now=clock, max_attempts=3).claimed == 0


def test_backoff_doubles_from_thirty_seconds_up_to_an_hour():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_seconds(20) == 3600


def test_a_passage_that_failed_once_is_embedded_once_on_the_retry():
    passages(3)
    clock = Clock()
    embedder = CountingEmbedder(failures=1)
    embedding_queue_run(embedder=embedder, now=clock)
    clock.advance(30)
    embedding_queue_run(embedder=embedder, now=clock)
    assert statuses() == [_S.COMPLETED] * 3
    assert set(embedder.embedded.values()) == {1}


def test_a_claim_left_by_a_dead_worker_is_recovered_after_the_lease_and_embedded_exactly_once():
    passages(4)
    clock = Clock()
    # A worker claims the batch and dies before embedding it.
    dead_claim = clock.now
    assert len(chunks_claim(now=dead_claim, limit=10)) == 4
    assert statuses() == [_S.PROCESSING] * 4

    embedder = CountingEmbedder()
    clock.advance(60)  # within the lease: the claim still counts
    assert embedding_queue_run(embedder=embedder, now=clock, lease_seconds=300).claimed == 0
    clock.advance(300)
    run = embedding_queue_run(embedder=embedder, now=clock, lease_seconds=300)
    assert (run.recovered, run.completed) == (4, 4)
    assert sorted(embedder.embedded.values()) == [1, 1, 1, 1]

    # The dead worker comes back to its old claim: nothing is embedded or stored again.
    batch_embed(list(Chunk.objects.values_list("pk", flat=True)), claimed_at=dead_claim, embedder=embedder)
    assert sorted(embedder.embedded.values()) == [1, 1, 1, 1]
    assert list(Chunk.objects.values_list("embedding_attempts", flat=True)) == [2, 2, 2, 2]


def test_two_workers_claim_disjoint_batches():
    passages(5)
    first = chunks_claim(now=T0, limit=3)
    second = chunks_claim(now=T0 + timedelta(microseconds=1), limit=3)
    assert len(first) == 3
    assert len(second) == 2
    assert not set(first) & set(second)


def test_embedding_calls_are_recorded_for_the_learner_under_the_tutor_feature():
    [chunk] = passages(1)
    records = []
    unsubscribe = telemetry.subscribe(records.append)
    try:
        embedding_queue_run(embedder=CountingEmbedder())
    finally:
        unsubscribe()
    [record] = [r for r in records if r.operation == "embeddings"]
    assert (record.feature, record.tenant_type) == ("tutor_embeddings", "learner")
    assert record.tenant_id == str(chunk.session.learner_id)


def test_the_queue_runs_every_thirty_seconds_from_beat():
    task = PeriodicTask.objects.select_related("interval").get(name="Tutor embedding queue")
    assert (task.interval.every, task.interval.period) == (30, "seconds")
    assert json.loads(task.kwargs) == {"kind": "tutor_embedding_queue", "payload": {}}


def test_search_ranks_embedded_passages_by_similarity_and_others_by_shared_words(settings):
    settings.LOCAL_EMBEDDING_DIMENSION = 64
    session = StudySessionFactory()
    document = DocumentFactory(session=session)
    texts = [
        "Mitochondria produce energy for the cell.",
        "Chlorophyll absorbs light in the leaves during photosynthesis.",
        "The French Revolution began in 1789.",
    ]
    for n, text in enumerate(texts):
        ChunkFactory(document=document, position=n, text=text)
    # Before embedding: word overlap.
    assert chunks_search(session, "photosynthesis in leaves", 1)[0].text == texts[1]
    embedding_queue_run(embedder=LocalEmbedder(dimension=64))
    best = chunks_search(session, "How do leaves absorb light for photosynthesis?", 2)
    assert best[0].text == texts[1]
    assert best[0].score > best[1].score
    # Another learner's passages are never searched.
    assert chunks_search(StudySessionFactory(), "photosynthesis", 3) == []


def test_emails_and_phone_numbers_in_passages_are_not_sent_to_the_provider():
    document = DocumentFactory()
    ChunkFactory(document=document, text="Write to ada@example.com or call +44 20 7946 0958 about enzymes.")
    embedder = CountingEmbedder()
    embedding_queue_run(embedder=embedder)
    [sent] = embedder.embedded
    assert "ada@example.com" not in sent
    assert "7946" not in sent
    assert "enzymes" in sent


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED claims are PostgreSQL's")
def test_concurrent_workers_on_postgresql_never_claim_the_same_passage():
    expected = sorted(chunk.pk for chunk in passages(30))
    start = threading.Barrier(3)
    claimed: list[list[int]] = []

    def worker(n):
        try:
            start.wait(timeout=30)
            mine = []
            while ids := chunks_claim(now=T0 + timedelta(microseconds=n), limit=2):
                mine.extend(ids)
            claimed.append(mine)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    every = [pk for mine in claimed for pk in mine]
    assert len(claimed) == 3
    assert sorted(every) == expected  # each passage claimed once, none left out
