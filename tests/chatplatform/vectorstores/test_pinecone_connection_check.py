"""check_pinecone_connection: one clear outcome per configured index, for the admin action."""

from chatplatform.vectorstores.base import VectorRecord
from chatplatform.vectorstores.pinecone_check import IndexCheck, check_pinecone_connection


def check(server, index_names, **overrides):
    options = {"api_key": server.api_key, "controller_host": server.controller_host, "timeout": 2.0}
    options.update(overrides)
    return check_pinecone_connection(index_names=index_names, **options)


def test_it_describes_a_ready_index_with_dimension_metric_and_vector_count(
    pinecone_server, docs_index, make_store
):
    make_store().upsert([VectorRecord("a", [1, 0, 0, 0], {}), VectorRecord("b", [0, 1, 0, 0], {})])
    pinecone_server.create_index("products", 8, metric="dotproduct")

    assert check(pinecone_server, ["docs", "products"]) == [
        IndexCheck(index="docs", ok=True, reason="Ready: dimension 4, metric cosine, 2 vectors."),
        IndexCheck(index="products", ok=True, reason="Ready: dimension 8, metric dotproduct, 0 vectors."),
    ]


def test_it_reports_a_rejected_api_key_once_for_every_index(pinecone_server, docs_index):
    results = check(pinecone_server, ["docs", "products"], api_key="pcsk_fake_wrong_key")

    assert [(r.index, r.ok, r.reason) for r in results] == [
        ("docs", False, "Pinecone rejected the API key."),
        ("products", False, "Pinecone rejected the API key."),
    ]
    assert len(pinecone_server.requests) == 1


def test_it_reports_an_index_missing_from_the_project(pinecone_server, docs_index):
    missing, found = check(pinecone_server, ["missing", "docs"])

    assert missing == IndexCheck(
        index="missing", ok=False, reason="The index does not exist in this Pinecone project."
    )
    assert found.ok


def test_it_reports_an_index_that_is_not_ready(pinecone_server, docs_index):
    pinecone_server.set_index_state("docs", "ScalingUp", ready=False)

    assert check(pinecone_server, ["docs"]) == [
        IndexCheck(index="docs", ok=False, reason="The index is not ready (state: ScalingUp).")
    ]


def test_it_reports_a_timeout_as_unreachable_without_retrying(pinecone_server, docs_index):
    pinecone_server.delay_next(5, seconds=1.5, plane="control")

    results = check(pinecone_server, ["docs", "products"], timeout=0.3)

    # No retry: at most one request per index reached the (busy) server.
    assert len(pinecone_server.requests_to("/indexes/docs")) <= 1
    assert len(pinecone_server.requests_to("/indexes/products")) <= 1
    assert [r.ok for r in results] == [False, False]
    assert results[0].reason == "Pinecone could not be reached: no answer within 0.3 seconds."
    assert results[1].reason == results[0].reason


def test_it_reports_a_refused_connection_as_unreachable(unreachable_host):
    (result,) = check_pinecone_connection(
        api_key="pcsk_fake_key", index_names=["docs"], controller_host=unreachable_host, timeout=2.0
    )

    assert not result.ok
    assert result.reason.startswith("Pinecone could not be reached: ")
    assert unreachable_host in result.reason


def test_it_reports_that_no_api_key_is_configured(pinecone_server):
    assert check(pinecone_server, ["docs"], api_key="") == [
        IndexCheck(index="docs", ok=False, reason="No Pinecone API key is configured.")
    ]
    assert check(pinecone_server, [], api_key="") == [
        IndexCheck(index="", ok=False, reason="No Pinecone API key is configured.")
    ]
    assert pinecone_server.requests == []


def test_it_reports_that_no_index_is_configured(pinecone_server):
    assert check(pinecone_server, []) == [
        IndexCheck(index="", ok=False, reason="No Pinecone index is configured.")
    ]
    assert check(pinecone_server, [""]) == [
        IndexCheck(index="", ok=False, reason="No Pinecone index is configured.")
    ]


def test_its_reasons_never_contain_the_api_key(pinecone_server, docs_index, unreachable_host):
    secret = "test-key-for-the-check-77"
    results = [
        *check(pinecone_server, ["docs"], api_key=secret),
        *check(pinecone_server, ["docs"], api_key=f"{secret}\n"),
        *check(pinecone_server, ["docs"], api_key=secret, controller_host=unreachable_host),
        *check(pinecone_server, ["missing", "docs"]),
    ]

    assert all(secret not in repr(r) and pinecone_server.api_key not in repr(r) for r in results)
    assert results[1].reason.startswith("The API key")
