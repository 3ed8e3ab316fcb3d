"""The fake Pinecone server itself: other suites rely on it speaking Pinecone's API faithfully."""

import contextlib

import httpx
import pytest
from pinecone import Pinecone


@pytest.fixture
def sdk(pinecone_server):
    client = Pinecone(api_key=pinecone_server.api_key, host=pinecone_server.controller_host)
    yield client
    client.close()


@pytest.fixture
def stack():
    with contextlib.ExitStack() as exits:
        yield exits


def test_it_answers_a_wrong_api_key_with_pinecones_401(pinecone_server):
    response = httpx.get(f"{pinecone_server.controller_host}/indexes", headers={"Api-Key": "pcsk_fake_wrong"})

    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"},
        "status": 401,
    }


def test_it_answers_an_unknown_index_with_pinecones_404(pinecone_server):
    response = httpx.get(
        f"{pinecone_server.controller_host}/indexes/missing", headers={"Api-Key": pinecone_server.api_key}
    )

    assert response.status_code == 404
    assert response.json()["error"] == {"code": "NOT_FOUND", "message": "Resource missing not found"}


def test_it_describes_an_index_in_the_shape_of_the_requested_api_version(pinecone_server):
    pinecone_server.create_index("docs", 4)
    url, key = f"{pinecone_server.controller_host}/indexes/docs", pinecone_server.api_key

    old = httpx.get(url, headers={"Api-Key": key, "X-Pinecone-Api-Version": "2025-04"}).json()
    new = httpx.get(url, headers={"Api-Key": key, "X-Pinecone-Api-Version": "2026-07"}).json()

    assert old["dimension"] == 4
    assert old["metric"] == "cosine"
    assert old["spec"] == {"serverless": {"cloud": "aws", "region": "us-east-1"}}
    assert new["schema"]["fields"]["_values"] == {"type": "dense_vector", "dimension": 4, "metric": "cosine"}
    for described in (old, new):
        assert described["status"] == {"ready": True, "state": "Ready"}
        assert described["host"] == pinecone_server.index_host("docs")
        assert described["deletion_protection"] == "disabled"


def test_it_creates_lists_and_deletes_indexes_through_the_sdk(pinecone_server, sdk):
    created = sdk.indexes.create(
        name="products",
        schema={"fields": {"_values": {"type": "dense_vector", "dimension": 3, "metric": "dotproduct"}}},
        deployment={"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"},
    )

    assert (created.name, created.dimension, created.metric) == ("products", 3, "dotproduct")
    assert [index.name for index in sdk.indexes.list()] == ["products"]

    sdk.indexes.delete("products", timeout=-1)

    assert list(sdk.indexes.list()) == []


def test_it_gives_every_index_its_own_reachable_host(pinecone_server, sdk):
    pinecone_server.create_index("first", 2)
    pinecone_server.create_index("second", 2)
    with sdk.index(name="first") as first, sdk.index(name="second") as second:
        first.upsert(vectors=[("a", [1.0, 0.0])])

        assert first.host != second.host
        assert first.describe_index_stats().total_vector_count == 1
        assert second.describe_index_stats().total_vector_count == 0


def test_it_filters_queries_with_eq_and_in(pinecone_server, sdk, stack):
    pinecone_server.create_index("docs", 2)
    index = stack.enter_context(sdk.index(name="docs"))
    index.upsert(
        vectors=[
            {"id": "a", "values": [1.0, 0.0], "metadata": {"lang": "da", "tags": ["faq"]}},
            {"id": "b", "values": [1.0, 0.1], "metadata": {"lang": "en", "tags": ["terms"]}},
            {"id": "c", "values": [0.0, 1.0], "metadata": {"lang": "de"}},
        ],
        namespace="ns",
    )

    def ids(flt):
        return [m.id for m in index.query(vector=[1.0, 0.0], top_k=5, namespace="ns", filter=flt).matches]

    assert ids({"lang": {"$eq": "en"}}) == ["b"]
    assert ids({"lang": "da"}) == ["a"]
    assert ids({"lang": {"$in": ["da", "de"]}}) == ["a", "c"]
    assert ids({"tags": {"$in": ["terms"]}}) == ["b"]
    assert ids({"$or": [{"lang": "de"}, {"tags": "faq"}]}) == ["a", "c"]


def test_it_fetches_and_lists_ids_by_prefix_page_by_page(pinecone_server, sdk, stack):
    pinecone_server.create_index("docs", 2)
    index = stack.enter_context(sdk.index(name="docs"))
    index.upsert(vectors=[(f"doc1#{n}", [1.0, float(n)]) for n in range(5)] + [("doc2#0", [1.0, 0.0])])

    first = index.list_paginated(prefix="doc1#", limit=2)
    pages = [[item.id for item in page.vectors] for page in index.list(prefix="doc1#", limit=2)]

    assert [item.id for item in first.vectors] == ["doc1#0", "doc1#1"]
    assert first.pagination.next
    assert pages == [["doc1#0", "doc1#1"], ["doc1#2", "doc1#3"], ["doc1#4"]]
    assert list(index.fetch(ids=["doc2#0", "nope"]).vectors) == ["doc2#0"]


def test_it_answers_injected_failures_then_recovers(pinecone_server):
    pinecone_server.fail_next(1, status=503)
    headers = {"Api-Key": pinecone_server.api_key}

    failed = httpx.get(f"{pinecone_server.controller_host}/indexes", headers=headers)
    recovered = httpx.get(f"{pinecone_server.controller_host}/indexes", headers=headers)

    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "0"
    assert failed.json()["error"]["code"] == "UNAVAILABLE"
    assert recovered.status_code == 200
    assert [r.path for r in pinecone_server.requests] == ["/indexes", "/indexes"]


def test_it_records_the_api_version_the_sdk_asks_for(pinecone_server, sdk):
    list(sdk.indexes.list())

    assert pinecone_server.requests[0].api_version
    assert pinecone_server.requests[0].headers["api-key"] == pinecone_server.api_key
