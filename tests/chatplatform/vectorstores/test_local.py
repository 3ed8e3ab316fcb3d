"""LocalVectorStore: vectors in the database, exact cosine search, cached per index and namespace."""

import asyncio
import threading

import numpy as np
import pytest

from chatplatform.models import LocalVector
from chatplatform.vectorstores import local
from chatplatform.vectorstores.base import VectorRecord, VectorStore, VectorStoreError
from chatplatform.vectorstores.local import (
    LocalVectorStore,
    decode_values,
    encode_values,
    local_vector_cache_clear,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_matrices():
    local_vector_cache_clear()
    yield
    local_vector_cache_clear()


@pytest.fixture
def shared_cache(settings, tmp_path):
    """A cache all processes share (Redis in production; files here)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }


@pytest.fixture
def process_local_cache(settings):
    """The zero-setup default: local memory, private to each process."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def store(index: str = "docs", namespace: str = "shop-1") -> LocalVectorStore:
    return LocalVectorStore(index_name=index, namespace=namespace)


def record(vid: str, values: list[float], **metadata: object) -> VectorRecord:
    return VectorRecord(id=vid, values=values, metadata=dict(metadata))


def test_it_is_a_vector_store():
    assert isinstance(store(), VectorStore)


def test_it_refuses_an_empty_namespace():
    with pytest.raises(ValueError, match="namespace"):
        LocalVectorStore(index_name="docs", namespace="")


def test_it_finds_the_nearest_vectors_by_cosine_best_first():
    docs = store()
    docs.upsert(
        [
            record("a", [1, 0, 0], source="faq.md"),
            record("b", [0, 1, 0]),
            record("c", [3, 0.3, 0]),  # longer than a, same direction almost: cosine ignores length
        ]
    )

    matches = docs.query([2, 0, 0], top_k=2)

    assert [m.id for m in matches] == ["a", "c"]
    assert matches[0].score == pytest.approx(1.0)
    assert matches[1].score == pytest.approx(3 / np.hypot(3, 0.3))
    assert matches[0].metadata == {"source": "faq.md"}
    assert [m.id for m in docs.query([0, 1, 0], top_k=10)] == ["b", "c", "a"]


def test_it_stores_float32_little_endian_bytes():
    store().upsert([record("a", [1.5, -2.0, 0.25])])

    row = LocalVector.objects.get(vector_id="a")
    assert bytes(row.values) == np.array([1.5, -2.0, 0.25], dtype="<f4").tobytes()
    assert decode_values(row.values).tolist() == [1.5, -2.0, 0.25]


def test_upsert_replaces_records_with_the_same_id():
    docs = store()
    docs.upsert([record("a", [1, 0]), record("b", [0, 1], v=1)])
    docs.upsert([record("b", [1, 0], v=2), record("b", [1, 0.1], v=3)])

    assert LocalVector.objects.count() == 2
    matches = docs.query([1, 0], top_k=2)
    assert {m.id: m.metadata for m in matches} == {"a": {}, "b": {"v": 3}}


def test_delete_removes_records_and_ignores_unknown_ids():
    docs = store()
    docs.upsert([record("a", [1, 0]), record("b", [0, 1])])

    docs.delete(["a", "never-stored"])

    assert [m.id for m in docs.query([1, 0], top_k=5)] == ["b"]


def test_an_empty_namespace_answers_nothing():
    assert store().query([1, 0], top_k=3) == []


def test_namespaces_and_indexes_keep_their_vectors_apart():
    mine, theirs, other_index = store(namespace="shop-1"), store(namespace="shop-2"), store("faq", "shop-1")
    mine.upsert([record("same-id", [1, 0], owner="shop-1")])
    theirs.upsert([record("same-id", [1, 0], owner="shop-2"), record("only-theirs", [1, 0.1])])
    other_index.upsert([record("faq-1", [1, 0])])

    assert [(m.id, m.metadata) for m in mine.query([1, 0], top_k=10)] == [("same-id", {"owner": "shop-1"})]

    mine.delete(["same-id", "only-theirs"])

    assert mine.query([1, 0], top_k=10) == []
    assert {m.id for m in theirs.query([1, 0], top_k=10)} == {"same-id", "only-theirs"}
    assert [m.id for m in other_index.query([1, 0], top_k=10)] == ["faq-1"]


def test_a_query_of_another_dimension_is_refused():
    docs = store()
    docs.upsert([record("a", [1, 0, 0])])

    with pytest.raises(VectorStoreError) as caught:
        docs.query([1, 0], top_k=1)

    assert caught.value.code == "vector_store_dimension_mismatch"
    assert caught.value.permanent


def test_an_upsert_of_another_dimension_is_refused_while_the_namespace_holds_vectors():
    docs = store()
    docs.upsert([record("a", [1, 0, 0])])

    with pytest.raises(VectorStoreError) as caught:
        docs.upsert([record("b", [1, 0])])

    assert caught.value.code == "vector_store_dimension_mismatch"
    assert not LocalVector.objects.filter(vector_id="b").exists()
    docs.delete(["a"])
    docs.upsert([record("b", [1, 0])])  # an emptied namespace takes any dimension again


def test_a_zero_query_vector_scores_zero():
    docs = store()
    docs.upsert([record("a", [1, 0])])

    assert [m.score for m in docs.query([0, 0], top_k=1)] == [0.0]


def test_queries_are_served_from_memory_until_the_index_changes(shared_cache, django_assert_num_queries):
    docs = store()
    docs.upsert([record("a", [1, 0])])

    with django_assert_num_queries(1):
        docs.query([1, 0], top_k=1)
    with django_assert_num_queries(0):
        store().query([1, 0], top_k=1)  # another instance, same process: the same matrix

    docs.upsert([record("b", [0.9, 0.1])])

    with django_assert_num_queries(1):
        assert [m.id for m in store().query([1, 0], top_k=2)] == ["a", "b"]


def test_without_a_shared_cache_each_query_checks_the_table(process_local_cache, django_assert_num_queries):
    docs = store()
    docs.upsert([record("a", [1, 0])])
    docs.query([1, 0], top_k=1)

    with django_assert_num_queries(1):  # the table's version only, the matrix is in memory
        docs.query([1, 0], top_k=1)

    # Another process (whose local-memory cache this one cannot see) writes rows.
    LocalVector.objects.create(
        index_name="docs", namespace="shop-1", vector_id="b", values=local.encode_values([1, 0.1])
    )

    with django_assert_num_queries(2):
        assert [m.id for m in docs.query([1, 0], top_k=5)] == ["a", "b"]
    LocalVector.objects.filter(vector_id="a").delete()
    assert [m.id for m in docs.query([1, 0], top_k=5)] == ["b"]


def test_a_change_made_by_another_process_is_seen_through_the_shared_version(shared_cache):
    docs = store()
    docs.upsert([record("a", [1, 0])])
    assert [m.id for m in docs.query([1, 0], top_k=5)] == ["a"]
    web_process_matrices = dict(local._matrices._entries)

    # A worker process (its own empty memory, the same shared cache) ingests a document.
    local_vector_cache_clear()
    store().upsert([record("b", [1, 0.2])])

    # Back in the web process, which still holds the matrix it loaded before.
    local._matrices._entries.clear()
    local._matrices._entries.update(web_process_matrices)
    assert [m.id for m in docs.query([1, 0], top_k=5)] == ["a", "b"]


def test_a_process_without_a_cached_matrix_loads_it_once(shared_cache, django_assert_num_queries):
    docs = store()
    docs.upsert([record("a", [1, 0])])
    docs.query([1, 0], top_k=1)

    local_vector_cache_clear()  # a freshly started process, the version unchanged

    with django_assert_num_queries(1):
        docs.query([1, 0], top_k=1)
        docs.query([1, 0], top_k=1)


def test_other_processes_are_told_again_after_the_commit(shared_cache, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    docs = store()
    key = docs._version_key()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        docs.upsert([record("a", [1, 0])])
    during_transaction = cache.get(key)

    for callback in callbacks:
        callback()

    # Readers that loaded uncommitted-looking data under the first token must reload.
    assert cache.get(key) != during_transaction


def test_a_lost_version_makes_readers_reload_instead_of_serving_stale_vectors(
    shared_cache, django_assert_num_queries
):
    from django.core.cache import cache

    docs = store()
    docs.upsert([record("a", [1, 0])])
    docs.query([1, 0], top_k=1)

    cache.delete(docs._version_key())  # evicted from Redis, or Redis restarted

    with django_assert_num_queries(1):
        docs.query([1, 0], top_k=1)


def test_top_k_must_be_positive():
    with pytest.raises(ValueError, match="top_k"):
        store().query([1, 0], top_k=0)


@pytest.mark.django_db(transaction=True)
async def test_aquery_reads_the_database_off_the_event_loop(monkeypatch):
    from django.db import connections

    def write() -> None:
        store().upsert([record("a", [1, 0]), record("b", [0, 1])])
        connections.close_all()

    await asyncio.to_thread(write)
    loop_thread = threading.get_ident()
    threads: list[int] = []
    original = LocalVectorStore._load

    def spying_load(self, version):
        threads.append(threading.get_ident())
        return original(self, version)

    monkeypatch.setattr(LocalVectorStore, "_load", spying_load)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    matches = await store().aquery([1, 0.1], top_k=1)
    ticking.cancel()

    assert [m.id for m in matches] == ["a"]
    assert threads
    assert loop_thread not in threads
    assert ticks > 0


@pytest.mark.django_db(transaction=True)
async def test_with_redis_a_held_matrix_is_searched_on_the_loop_until_another_process_changes_it(
    redis_cache, monkeypatch
):
    from asgiref.sync import sync_to_async

    docs = store()
    await sync_to_async(docs.upsert)([record("a", [1, 0])])
    assert [m.id for m in await docs.aquery([1, 0], top_k=5)] == ["a"]
    loop_thread = threading.get_ident()
    searched_in: list[int] = []
    original = LocalVectorStore._search

    def spying_search(self, matrix, vector, top_k):
        searched_in.append(threading.get_ident())
        return original(self, matrix, vector, top_k)

    monkeypatch.setattr(LocalVectorStore, "_search", spying_search)

    assert [m.id for m in await docs.aquery([1, 0], top_k=5)] == ["a"]
    assert searched_in == [loop_thread]

    # A worker process (its own memory, the same Redis) ingests a document.
    held = dict(local._matrices._entries)
    local_vector_cache_clear()
    await sync_to_async(store().upsert)([record("b", [1, 0.2])])
    local._matrices._entries.update(held)

    assert [m.id for m in await docs.aquery([1, 0], top_k=5)] == ["a", "b"]
    assert searched_in[1] != loop_thread  # reloaded from the database in a thread


@pytest.mark.django_db(transaction=True)
async def test_answers_trust_a_matrix_confirmed_within_the_recheck_time(redis_cache, settings, monkeypatch):
    from asgiref.sync import sync_to_async

    settings.LOCAL_VECTOR_RECHECK_SECONDS = 30
    docs = store()
    await sync_to_async(docs.upsert)([record("a", [1, 0])])
    await docs.aquery([1, 0], top_k=5)  # loaded and confirmed
    version_reads = []

    async def counting_aversion(self):
        version_reads.append(self)

    monkeypatch.setattr(LocalVectorStore, "_aversion", counting_aversion)

    assert [m.id for m in await docs.aquery([1, 0], top_k=5)] == ["a"]
    assert version_reads == []

    settings.LOCAL_VECTOR_RECHECK_SECONDS = 0
    await docs.aquery([1, 0], top_k=5)
    assert version_reads == [docs]


class FakeClock:
    """`time` for the matrix cache: its recheck window moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.mark.django_db(transaction=True)
async def test_indexes_in_use_are_rechecked_in_the_background_so_answers_do_not_wait(
    redis_cache, settings, monkeypatch
):
    from asgiref.sync import sync_to_async
    from django.core.cache import cache

    from tests.waiting import until

    settings.LOCAL_VECTOR_RECHECK_SECONDS = 0.2
    clock = FakeClock()
    monkeypatch.setattr(local, "time", clock)
    background_reads: list[dict] = []
    on_values = local._version_watch._on_values

    def recording(versions):
        on_values(versions)
        background_reads.append(versions)

    monkeypatch.setattr(local._version_watch, "_on_values", recording)
    docs = store()
    await sync_to_async(docs.upsert)([record("a", [1, 0])])
    await docs.aquery([1, 0], top_k=5)
    version_reads = []
    original = LocalVectorStore._aversion

    async def counting_aversion(self):
        version_reads.append(self)
        return await original(self)

    monkeypatch.setattr(LocalVectorStore, "_aversion", counting_aversion)
    # Past the recheck time; the next background read confirms the version meanwhile.
    clock.now += 10
    seen = len(background_reads)
    await until(lambda: len(background_reads) > seen, timeout=30)

    assert [m.id for m in await docs.aquery([1, 0], top_k=5)] == ["a"]
    assert version_reads == []

    # Another process adds a vector and publishes a new version; the background check sees it.
    await sync_to_async(LocalVector.objects.create)(
        index_name="docs", namespace="shop-1", vector_id="b", values=encode_values([1, 0.2]), metadata={}
    )
    await sync_to_async(cache.set)(docs._version_key(), "changed-elsewhere", None)
    await until(lambda: {docs._version_key(): "changed-elsewhere"} in background_reads, timeout=30)

    assert [m.id for m in await docs.aquery([1, 0], top_k=5)] == ["a", "b"]
    local_vector_cache_clear()  # stops the background check before this test's loop ends
