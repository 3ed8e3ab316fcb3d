"""Each provider, vector-store and commerce call records one telemetry span."""

import pytest
from django.core.cache import cache

from chatplatform import telemetry
from chatplatform.ai.base import ProviderError
from chatplatform.ai.local import LocalChatProvider, LocalEmbedder
from chatplatform.ai.openai import OpenAIChatProvider, OpenAIEmbedder
from chatplatform.vectorstores.base import VectorRecord
from chatplatform.vectorstores.local import LocalVectorStore
from chatplatform.vectorstores.pinecone import PineconeVectorStore
from tests.chatplatform.ai.conftest import chat_request, make_image  # noqa: F401
from tests.fakes.commerce.shopify_server import FakeShopifyServer, shopify_server  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.fakes.pinecone_server import FakePineconeServer, pinecone_server  # noqa: F401
from tests.tracking.factories import shopify_integration
from tracking.clients.base import OrderClientError
from tracking.clients.shopify import ShopifyClient
from tracking.extraction import OrderVariables
from tracking.services import order_lookup


def only(spans, operation: str) -> telemetry.CallRecord:
    [span] = [span for span in spans if span.operation == operation]
    return span


# --- openai -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("openai_settings")
async def test_a_chat_stream_records_usage_first_token_and_the_answering_model(
    openai_server: FakeOpenAIServer, spans
):
    openai_server.script(tokens=["Vi", " sender."], usage=(120, 2))

    with telemetry.context(tenant_type="chatbot", tenant_id="nordvin", feature="answer"):
        await OpenAIChatProvider().stream_chat(chat_request("Sender I?")).collect()

    span = only(spans, "chat")
    assert (span.provider, span.request_model, span.response_model) == (
        "openai",
        "gpt-4o-mini",
        "gpt-4o-mini",
    )
    assert (span.input_tokens, span.output_tokens, span.usage_estimated) == (120, 2, False)
    assert span.ttft_ms is not None
    assert (span.outcome, span.tenant_id, span.feature) == ("ok", "nordvin", "answer")
    assert openai_server.requests[0].body["stream_options"] == {"include_usage": True}


@pytest.mark.usefixtures("openai_settings")
async def test_a_failed_stream_records_the_error_code(openai_server: FakeOpenAIServer, spans):
    openai_server.script(status=503)

    with pytest.raises(ProviderError):
        await OpenAIChatProvider().stream_chat(chat_request("Hi")).collect()

    span = only(spans, "chat")
    assert (span.outcome, span.error_type) == ("error", "ProviderError")
    assert span.attributes["error.code"] == "provider_unavailable"


@pytest.mark.usefixtures("openai_settings")
async def test_a_stopped_stream_is_not_a_failure(openai_server: FakeOpenAIServer, spans):
    openai_server.script("One two three four five six seven", interval=0.01)
    stream = OpenAIChatProvider().stream_chat(chat_request("Hi"))
    await anext(stream)

    await stream.aclose()

    span = only(spans, "chat")
    assert span.outcome == "ok"
    assert span.attributes["stopped"] is True


@pytest.mark.usefixtures("openai_settings")
async def test_json_is_re_asked_with_the_parse_error_and_each_request_is_recorded(
    openai_server: FakeOpenAIServer, spans
):
    openai_server.script("Sure: topic Levering", '{"topic": "Levering"}')

    result = await OpenAIChatProvider().complete_json(system="Classify.", user="Hvor er min pakke?")

    assert result == {"topic": "Levering"}
    reask = openai_server.requests[1].body["messages"][-1]
    assert reask["role"] == "user"
    assert "invalid JSON" in reask["content"]
    json_spans = [span for span in spans if span.operation == "json"]
    assert len(json_spans) == 2
    assert all(span.input_tokens and span.response_model == "gpt-4o-mini" for span in json_spans)


@pytest.mark.usefixtures("openai_settings")
async def test_json_gives_up_after_max_attempts(openai_server: FakeOpenAIServer, spans):
    openai_server.script("no", "still no", "never")

    with pytest.raises(ProviderError) as caught:
        await OpenAIChatProvider().complete_json(system="Reply in JSON.", user="Hi", max_attempts=3)

    assert caught.value.code == "provider_bad_response"
    assert len(openai_server.requests) == 3
    assert len([span for span in spans if span.operation == "json"]) == 3


@pytest.mark.usefixtures("openai_settings")
async def test_vision_records_one_span_over_its_retries(openai_server: FakeOpenAIServer, make_image, spans):  # noqa: F811
    openai_server.script(Reply(status=500), "A red square.")

    await OpenAIChatProvider().describe_image(
        image=make_image((200, 30, 30)), mime_type="image/png", prompt="What?", language="en"
    )

    span = only(spans, "vision")
    assert (span.provider, span.outcome) == ("openai", "ok")
    assert span.input_tokens is not None


@pytest.mark.usefixtures("openai_settings")
def test_embeddings_record_a_span_per_request(openai_server: FakeOpenAIServer, spans):
    OpenAIEmbedder(batch_size=2).embed(["a", "b", "c"])

    embedding_spans = [span for span in spans if span.operation == "embeddings"]
    assert len(embedding_spans) == 2
    assert all(span.provider == "openai" and span.input_tokens for span in embedding_spans)


@pytest.mark.usefixtures("openai_settings")
async def test_concurrent_embedding_batches_keep_the_input_order(
    openai_server: FakeOpenAIServer, settings, spans
):
    settings.OPENAI_EMBEDDING_CONCURRENCY = 3
    texts = [f"text {number}" for number in range(7)]

    vectors = await OpenAIEmbedder(batch_size=2).aembed(texts)
    expected = await OpenAIEmbedder(batch_size=7).aembed(texts)

    assert vectors == expected
    assert len([span for span in spans if span.operation == "embeddings"]) == 5


# --- local provider ----------------------------------------------------------------------------


async def test_the_local_provider_records_its_calls_with_texts_to_count(make_image, spans):  # noqa: F811
    provider = LocalChatProvider()
    await provider.stream_chat(chat_request("Hi")).collect()
    await provider.describe_image(
        image=make_image((0, 0, 0)), mime_type="image/png", prompt="?", language="en"
    )
    await LocalEmbedder().aembed_query("hvad koster fragt")
    with pytest.raises(ProviderError):
        await provider.complete_json(system="s", user="u")

    assert [(span.operation, span.provider) for span in spans] == [
        ("chat", "local"),
        ("vision", "local"),
        ("embeddings", "local"),
        ("json", "local"),
    ]
    chat = spans[0]
    assert chat.input_text
    assert chat.output_text
    assert chat.input_tokens is None
    assert chat.ttft_ms is not None
    assert spans[3].attributes["error.code"] == "provider_not_supported"


# --- vector stores -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_local_store_records_upserts_and_queries(spans):
    store = LocalVectorStore(index_name="docs", namespace="nordvin")
    store.upsert([VectorRecord(id="a", values=[1.0, 0.0])])

    store.query([1.0, 0.0], top_k=1)

    assert [span.operation for span in spans] == ["vector_upsert", "vector_query"]
    assert spans[1].attributes == {"db.collection.name": "docs", "db.namespace": "nordvin"}


@pytest.mark.django_db(transaction=True)
async def test_the_local_store_records_async_queries_once(spans):
    from asgiref.sync import sync_to_async

    store = LocalVectorStore(index_name="docs", namespace="nordvin")
    await sync_to_async(store.upsert)([VectorRecord(id="a", values=[1.0, 0.0])])

    await store.aquery([1.0, 0.0], top_k=1)

    assert [span.operation for span in spans] == ["vector_upsert", "vector_query"]


def test_pinecone_calls_are_recorded(pinecone_server: FakePineconeServer, spans):  # noqa: F811
    pinecone_server.create_index("docs", 2)
    store = PineconeVectorStore(
        api_key=pinecone_server.api_key,
        index_name="docs",
        namespace="nordvin",
        controller_host=pinecone_server.controller_host,
        timeout=5.0,
    )
    store.upsert([VectorRecord(id="a", values=[1.0, 0.0])])
    store.query([1.0, 0.0], top_k=1)

    assert [(span.operation, span.provider) for span in spans] == [
        ("vector_upsert", "pinecone"),
        ("vector_query", "pinecone"),
    ]


# --- commerce ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_commerce_request_is_recorded_with_the_kind_as_provider(
    shopify_server: FakeShopifyServer,  # noqa: F811
    spans,
):
    shopify_server.add_order("NV-1", fulfillment="FULFILLED", email="a@example.dk", zip_code="2100")
    client = ShopifyClient.from_integration(shopify_integration(shopify_server), timeout=2, backoff=0.01)
    try:
        client.fetch_order("NV-1")
    finally:
        cache.delete(client._token_cache_key())
        client.close()

    commerce = [span for span in spans if span.operation == "commerce"]
    assert commerce
    assert {span.provider for span in commerce} == {"shopify"}
    assert all(span.outcome == "ok" for span in commerce)


@pytest.mark.django_db
def test_a_refused_commerce_request_records_its_code(shopify_server: FakeShopifyServer, spans):  # noqa: F811
    client = ShopifyClient.from_integration(
        shopify_integration(shopify_server, credentials={"access_token": "wrong"}), timeout=2, backoff=0.01
    )
    try:
        with pytest.raises(OrderClientError):
            client.fetch_order("NV-1")
    finally:
        client.close()

    span = [span for span in spans if span.operation == "commerce"][-1]
    assert span.outcome == "error"
    assert span.attributes["error.code"] == "order_auth_failed"
    assert span.attributes["failure.kind"] == "configuration"


@pytest.mark.django_db
def test_an_order_lookup_records_its_commerce_calls_for_its_chatbot(
    shopify_server: FakeShopifyServer,  # noqa: F811
    spans,
):
    shopify_server.add_order("NV-2", fulfillment="FULFILLED", email="b@example.dk", zip_code="2100")
    integration = shopify_integration(shopify_server)

    result = order_lookup(
        chatbot=integration.chatbot,
        variables=OrderVariables(order_number="NV-2", email="b@example.dk"),
        channel="api",
    )

    assert result.outcome == "verified"
    commerce = [span for span in spans if span.operation == "commerce"]
    assert commerce
    assert {(s.tenant_type, s.tenant_id, s.feature) for s in commerce} == {
        ("chatbot", integration.chatbot.chatbot_id, "order_lookup")
    }
