"""PineconeVectorStore through the real SDK against the fake Pinecone server."""

import asyncio
import contextlib
import logging

import pytest

from chatplatform.vectorstores.base import VectorMatch, VectorRecord, VectorStore, VectorStoreError


def record(vid: str, values: list[float], **metadata: object) -> VectorRecord:
    return VectorRecord(id=vid, values=values, metadata=dict(metadata))


def test_it_is_a_vector_store(docs_index, make_store):
    assert isinstance(make_store(), VectorStore)


def test_it_round_trips_upsert_query_and_delete(pinecone_server, docs_index, make_store):
    store = make_store()
    store.upsert(
        [
            record("a", [1, 0, 0, 0], source="faq.md", page=1),
            record("b", [0, 1, 0, 0], source="terms.pdf"),
            record("c", [0.9, 0.1, 0, 0]),
        ]
    )

    matches = store.query([1, 0, 0, 0], top_k=2)

    assert [m.id for m in matches] == ["a", "c"]
    assert matches[0] == VectorMatch(
        id="a", score=pytest.approx(1.0), metadata={"source": "faq.md", "page": 1}
    )
    assert matches[1].metadata == {}
    assert matches[0].score > matches[1].score

    store.delete(["a", "unknown-id"])

    assert [m.id for m in store.query([1, 0, 0, 0], top_k=3)] == ["c", "b"]
    assert set(pinecone_server.vectors("docs", "chatbot-1")) == {"b", "c"}


def test_it_keeps_each_chatbots_vectors_in_its_own_namespace(pinecone_server, docs_index, make_store):
    first, second = make_store(namespace="chatbot-1"), make_store(namespace="chatbot-2")
    first.upsert([record("shared-id", [1, 0, 0, 0], owner="first")])
    second.upsert([record("shared-id", [1, 0, 0, 0], owner="second"), record("only-b", [1, 0.1, 0, 0])])

    assert [(m.id, m.metadata["owner"]) for m in first.query([1, 0, 0, 0], top_k=10)] == [
        ("shared-id", "first")
    ]

    first.delete(["shared-id", "only-b"])

    assert first.query([1, 0, 0, 0], top_k=10) == []
    assert {m.id for m in second.query([1, 0, 0, 0], top_k=10)} == {"shared-id", "only-b"}
    assert [r.body["namespace"] for r in pinecone_server.requests_to("/query")] == [
        "chatbot-1",
        "chatbot-1",
        "chatbot-2",
    ]


def test_it_refuses_to_share_the_default_namespace(docs_index, make_store):
    with pytest.raises(ValueError, match="namespace"):
        make_store(namespace="")


def test_it_upserts_in_batches_of_100(pinecone_server, docs_index, make_store):
    make_store().upsert([record(f"chunk-{n}", [1, n, 0, 0]) for n in range(250)])

    batches = pinecone_server.requests_to("/vectors/upsert")
    assert [len(r.body["vectors"]) for r in batches] == [100, 100, 50]
    assert len(pinecone_server.vectors("docs", "chatbot-1")) == 250


def test_it_deletes_in_batches_of_1000(pinecone_server, docs_index, make_store):
    make_store().delete([f"chunk-{n}" for n in range(2500)])

    assert [len(r.body["ids"]) for r in pinecone_server.requests_to("/vectors/delete")] == [1000, 1000, 500]


def test_it_sends_nothing_for_empty_upserts_and_deletes(pinecone_server, docs_index, make_store):
    store = make_store()
    store.upsert([])
    store.delete([])

    assert pinecone_server.requests == []


def test_it_describes_the_index_once_per_process(pinecone_server, docs_index, make_store):
    make_store(namespace="chatbot-1").upsert([record("a", [1, 0, 0, 0])])
    make_store(namespace="chatbot-2").query([1, 0, 0, 0], top_k=1)
    make_store(namespace="chatbot-1").query([1, 0, 0, 0], top_k=1)

    assert len(pinecone_server.requests_to("/indexes/docs", method="GET")) == 1


async def test_aquery_leaves_the_event_loop_free_while_pinecone_answers(
    pinecone_server, docs_index, make_store
):
    store = make_store()
    await asyncio.to_thread(store.upsert, [record("a", [1, 0, 0, 0]), record("b", [0, 1, 0, 0])])
    pinecone_server.delay_next(1, seconds=2, plane="data")
    turns_while_held = 0

    async def tick() -> None:
        # Counts the loop's turns between Pinecone receiving the query and the query returning:
        # a loop blocked by the query gets none.
        nonlocal turns_while_held
        while True:
            await asyncio.sleep(0.01)
            turns_while_held += bool(pinecone_server.requests_to("/query"))

    ticker = asyncio.create_task(tick())
    try:
        matches = await store.aquery([1, 0, 0, 0], top_k=1)
    finally:
        ticker.cancel()

    assert [m.id for m in matches] == ["a"]
    assert turns_while_held >= 1


def test_it_refuses_a_vector_of_the_wrong_dimension_without_sending_it(
    pinecone_server, docs_index, make_store
):
    store = make_store()

    with pytest.raises(VectorStoreError) as error:
        store.query([1, 0], top_k=1)

    assert error.value.code == "vector_store_dimension_mismatch"
    assert error.value.permanent
    assert f"dimension {docs_index.dimension}" in error.value.message
    assert pinecone_server.requests_to("/query") == []


def test_it_reports_a_rejected_api_key(docs_index, make_store):
    with pytest.raises(VectorStoreError) as error:
        make_store(api_key="pcsk_fake_wrong_key").query([1, 0, 0, 0], top_k=1)

    assert error.value.code == "vector_store_auth_failed"
    assert error.value.permanent


def test_it_reports_an_api_key_that_is_not_a_valid_header(docs_index, make_store):
    with pytest.raises(VectorStoreError) as error:
        make_store(api_key="test-key-with-newline\n").query([1, 0, 0, 0], top_k=1)

    assert error.value.code == "vector_store_auth_failed"


def test_it_reports_that_no_api_key_is_configured(make_store):
    with pytest.raises(VectorStoreError) as error:
        make_store(api_key="")

    assert error.value.code == "vector_store_auth_failed"


def test_it_reports_an_index_missing_from_the_project(docs_index, make_store):
    with pytest.raises(VectorStoreError) as error:
        make_store(index_name="missing").upsert([record("a", [1, 0, 0, 0])])

    assert error.value.code == "vector_store_index_not_found"
    assert error.value.permanent
    assert '"missing"' in error.value.message


def test_it_reports_an_index_that_is_not_ready_until_it_is(pinecone_server, docs_index, make_store):
    pinecone_server.set_index_state("docs", "Initializing")
    store = make_store()

    with pytest.raises(VectorStoreError) as error:
        store.query([1, 0, 0, 0], top_k=1)

    assert error.value.code == "vector_store_unavailable"
    assert not error.value.permanent
    assert "Initializing" in error.value.message

    pinecone_server.set_index_state("docs", "Ready")
    assert store.query([1, 0, 0, 0], top_k=1) == []


@pytest.mark.parametrize("status", [429, 500, 503])
def test_it_reports_a_failing_data_plane_as_unavailable(pinecone_server, docs_index, make_store, status):
    store = make_store()
    store.upsert([record("a", [1, 0, 0, 0])])
    # The SDK makes up to four attempts; every one of them fails.
    pinecone_server.fail_next(4, status=status, plane="data")

    with pytest.raises(VectorStoreError) as error:
        store.query([1, 0, 0, 0], top_k=1)

    assert error.value.code == "vector_store_unavailable"
    assert not error.value.permanent


def test_it_reports_a_503_from_the_control_plane_as_unavailable(pinecone_server, docs_index, make_store):
    pinecone_server.fail_next(4, status=503, plane="control")

    with pytest.raises(VectorStoreError) as error:
        make_store().query([1, 0, 0, 0], top_k=1)

    assert error.value.code == "vector_store_unavailable"
    assert not error.value.permanent


def test_it_reports_a_timeout(pinecone_server, docs_index, make_store):
    pinecone_server.delay_next(4, seconds=1.0, plane="control")

    with pytest.raises(VectorStoreError) as error:
        make_store(timeout=0.2).query([1, 0, 0, 0], top_k=1)

    assert error.value.code == "vector_store_timeout"
    assert not error.value.permanent
    assert "0.2 seconds" in error.value.message


def test_it_finds_an_index_recreated_under_a_new_host(pinecone_server, docs_index, make_store):
    store = make_store()
    store.upsert([record("old", [1, 0, 0, 0])])
    pinecone_server.delete_index("docs")
    pinecone_server.create_index("docs", docs_index.dimension)

    # The cached host no longer answers: the failure makes the store describe the index again.
    with contextlib.suppress(VectorStoreError):
        store.query([1, 0, 0, 0], top_k=1)
    store.upsert([record("new", [1, 0, 0, 0])])

    assert [m.id for m in store.query([1, 0, 0, 0], top_k=5)] == ["new"]


def test_no_error_message_repr_or_log_contains_the_api_key(
    pinecone_server, docs_index, make_store, unreachable_host, caplog
):
    caplog.set_level(logging.DEBUG)
    good_key, wrong_key = pinecone_server.api_key, "test-wrong-but-secret-42"
    stores = [make_store(), make_store(api_key=wrong_key)]
    errors: list[VectorStoreError] = []

    def failing(call) -> None:
        with pytest.raises(VectorStoreError) as error:
            call()
        errors.append(error.value)
        pinecone_server.clear_faults()

    failing(lambda: stores[1].query([1, 0, 0, 0], top_k=1))
    failing(lambda: make_store(index_name="missing").query([1, 0, 0, 0], top_k=1))
    failing(lambda: make_store(api_key=f"{wrong_key}\n").query([1, 0, 0, 0], top_k=1))
    failing(lambda: stores[0].query([1, 0], top_k=1))
    pinecone_server.fail_next(4, status=503)
    failing(lambda: stores[0].query([1, 0, 0, 0], top_k=1))
    failing(lambda: make_store(controller_host=unreachable_host).query([1, 0, 0, 0], top_k=1))

    # The key did reach Pinecone, so the checks below are not vacuous.
    assert pinecone_server.requests[0].headers["api-key"] in (good_key, wrong_key)
    shown = [text for e in errors for text in (str(e), repr(e), e.message)]
    shown += [repr(store) for store in stores] + [caplog.text]
    for text in shown:
        assert good_key not in text
        assert wrong_key not in text
