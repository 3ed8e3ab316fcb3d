"""The shared pipeline end to end: bytes in, vectors in a store out, with progress on the way."""

import json
import os
import subprocess
import sys
import textwrap
import threading
from itertools import accumulate
from pathlib import Path

import pytest

from chatplatform.ai.base import ProviderError
from chatplatform.ai.local import LocalEmbedder
from chatplatform.documents.chunking import ChunkingConfig
from chatplatform.documents.extraction import ExtractionLimits
from chatplatform.documents.pipeline import document_ingest, vector_ids, vectors_delete
from chatplatform.documents.status import DocumentStatus
from chatplatform.errors import ApplicationError
from chatplatform.vectorstores.local import LocalVectorStore
from tests.chatplatform.documents.samples import long_markdown

ROOT = Path(__file__).resolve().parents[3]
CHUNKING = ChunkingConfig(chunk_tokens=100, overlap_tokens=20)
LIMITS = ExtractionLimits(max_bytes=1_000_000, max_pages=50, timeout_seconds=30)


class MemorySink:
    def __init__(self) -> None:
        self.batches: list[list] = []

    def upsert(self, records) -> None:
        self.batches.append(list(records))


class CountingEmbedder:
    """The local embedder, remembering how many texts each call embedded."""

    def __init__(self, *, drop: int = 0) -> None:
        self.inner = LocalEmbedder(dimension=64)
        self.name, self.dimension = self.inner.name, self.inner.dimension
        self.calls: list[int] = []
        self.drop = drop

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        vectors = self.inner.embed(texts)
        return vectors[: len(vectors) - self.drop]


def ingest(data: bytes | str, name: str = "guide.md", **kwargs):
    options = {
        "embedder": CountingEmbedder(),
        "store": MemorySink(),
        "id_prefix": "lesson7",
        "metadata": {"session": 7},
        "chunking": CHUNKING,
        "limits": LIMITS,
        **kwargs,
    }
    return document_ingest(name=name, data=data.encode() if isinstance(data, str) else data, **options)


@pytest.mark.django_db
def test_a_document_is_stored_in_the_local_store_and_found_again():
    store = LocalVectorStore(index_name="lessons", namespace="learner-1")
    embedder = LocalEmbedder(dimension=64)

    result = ingest(long_markdown(12), embedder=embedder, store=store)

    assert len(result.chunks) > 2
    assert result.ids == vector_ids("lesson7", 0, len(result.chunks))
    assert result.extracted.kind == "markdown"
    [question] = embedder.embed(["When is grape number 5 harvested?"])
    [best] = store.query(question, top_k=1)
    assert "Harvest 5 happens in September" in best.metadata["text"]
    assert best.metadata == {
        "session": 7,
        "text": best.metadata["text"],
        "section": "Wine guide",
        "chunk": int(best.id.rsplit("-", 1)[1]),
    }


@pytest.mark.django_db
def test_deleting_a_documents_ids_empties_the_store_and_a_missing_index_counts_as_done():
    store = LocalVectorStore(index_name="lessons", namespace="learner-1")
    result = ingest(long_markdown(4), embedder=LocalEmbedder(dimension=64), store=store)

    vectors_delete(store, result.ids)

    assert store.query(LocalEmbedder(dimension=64).embed(["grape"])[0], top_k=5) == []


def test_passages_are_embedded_and_stored_in_batches_with_progress():
    embedder, sink, steps = CountingEmbedder(), MemorySink(), []

    result = ingest(long_markdown(20), embedder=embedder, store=sink, batch_size=4, progress=steps.append)

    total = len(result.chunks)
    assert total > 8
    assert embedder.calls == [len(batch) for batch in sink.batches]
    assert all(size <= 4 for size in embedder.calls)
    assert sum(embedder.calls) == total
    assert [record.id for batch in sink.batches for record in batch] == result.ids
    percents = [step.percent for step in steps]
    assert percents[0] == 0
    assert percents[-1] == 100
    assert percents == sorted(percents)
    assert {step.status for step in steps} == {DocumentStatus.PROCESSING}
    assert (steps[-1].done, steps[-1].total) == (total, total)
    assert steps[-1].message == f"Embedded {total} of {total} passages."


class MeetingEmbedder(CountingEmbedder):
    """Embeds only once `meet` calls are in flight together, so it proves they overlap."""

    def __init__(self, meet: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(meet, timeout=30)
        self.lock = threading.Lock()
        self.started = self.in_flight = self.most_in_flight = 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self.lock:
            first = self.started < self.barrier.parties
            self.started += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if first:
                self.barrier.wait()
            with self.lock:
                return super().embed(texts)
        finally:
            with self.lock:
                self.in_flight -= 1


class ThreadSink(MemorySink):
    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def upsert(self, records) -> None:
        self.threads.add(threading.get_ident())
        super().upsert(records)


def test_batches_are_embedded_at_once_up_to_the_concurrency_and_stored_in_order():
    embedder, sink, steps = MeetingEmbedder(meet=3), ThreadSink(), []

    result = ingest(
        long_markdown(20), embedder=embedder, store=sink, batch_size=2, concurrency=3, progress=steps.append
    )

    assert len(result.chunks) > 6
    assert embedder.most_in_flight == 3
    assert sink.threads == {threading.get_ident()}  # the store is used by the caller's thread only
    assert [record.id for batch in sink.batches for record in batch] == result.ids
    assert result.ids == vector_ids("lesson7", 0, len(result.chunks))
    # One report per batch, in order, after it is stored.
    stored = list(accumulate(len(batch) for batch in sink.batches))
    assert [step.done for step in steps if step.done] == stored


def test_the_concurrency_comes_from_the_settings(settings):
    settings.DOCUMENT_EMBED_CONCURRENCY = 2
    embedder = MeetingEmbedder(meet=2)

    ingest(long_markdown(20), embedder=embedder, batch_size=2)

    assert embedder.most_in_flight == 2


def test_a_provider_that_returns_too_few_vectors_stores_nothing():
    sink = MemorySink()

    with pytest.raises(ProviderError) as caught:
        ingest(long_markdown(3), embedder=CountingEmbedder(drop=1), store=sink)

    assert caught.value.code == "provider_bad_response"
    assert sink.batches == []


def test_a_refused_file_is_neither_embedded_nor_stored():
    embedder, sink = CountingEmbedder(), MemorySink()

    with pytest.raises(ApplicationError) as caught:
        ingest(b"MZ\x90\x00binary", name="setup.exe", embedder=embedder, store=sink)

    assert caught.value.code == "unsupported_document_type"
    assert embedder.calls == []
    assert sink.batches == []


def test_the_pipeline_runs_without_importing_any_app():
    # A fresh interpreter, without django.setup(): only the imports of the pipeline itself load.
    script = textwrap.dedent(
        """
        import json, sys
        from chatplatform.ai.local import LocalEmbedder
        from chatplatform.documents.chunking import ChunkingConfig
        from chatplatform.documents.extraction import ExtractionLimits
        from chatplatform.documents.pipeline import document_ingest

        class Sink:
            def upsert(self, records):
                self.records = list(records)

        sink = Sink()
        document_ingest(
            name="notes.md", data=b"# Notes\\n\\nPhotosynthesis happens in chloroplasts.",
            embedder=LocalEmbedder(dimension=64), store=sink, id_prefix="lesson1", metadata={},
            chunking=ChunkingConfig(chunk_tokens=100, overlap_tokens=10),
            limits=ExtractionLimits(max_bytes=10_000, max_pages=10, timeout_seconds=10),
        )
        apps = {"conversations", "tracking", "analytics", "tutor"}
        print(json.dumps({
            "ids": [record.id for record in sink.records],
            "apps": sorted(name for name in sys.modules if name.split(".")[0] in apps),
        }))
        """
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatplatform.settings", "PYTHONPATH": str(ROOT)}

    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == {"ids": ["lesson1-0"], "apps": []}
