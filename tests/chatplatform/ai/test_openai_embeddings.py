import numpy as np
import pytest

from chatplatform.ai import get_embedder
from chatplatform.ai.base import ProviderError
from chatplatform.ai.openai import OpenAIEmbedder
from tests.fakes.openai_server import FakeOpenAIServer, fake_embedding

pytestmark = pytest.mark.usefixtures("openai_settings")


def test_it_embeds_in_batches_of_256_and_keeps_the_input_order(openai_server: FakeOpenAIServer):
    openai_server.shuffle_embeddings = True  # the server answers in reverse order
    texts = [f"Spørgsmål nummer {number} om levering" for number in range(600)]

    vectors = get_embedder().embed(texts)

    assert [len(sent.body["input"]) for sent in openai_server.requests] == [256, 256, 88]
    assert len(vectors) == 600
    for text, vector in zip(texts[::97], vectors[::97], strict=True):
        np.testing.assert_allclose(vector, fake_embedding(text), rtol=1e-6)
    assert openai_server.requests[0].body["model"] == "text-embedding-3-small"


async def test_aembed_batches_and_keeps_the_input_order(openai_server: FakeOpenAIServer):
    openai_server.shuffle_embeddings = True
    texts = ["one", "two", "three", "four", "five"]

    vectors = await OpenAIEmbedder(batch_size=2).aembed(texts)

    assert [sent.body["input"] for sent in openai_server.requests] == [
        ["one", "two"],
        ["three", "four"],
        ["five"],
    ]
    for text, vector in zip(texts, vectors, strict=True):
        np.testing.assert_allclose(vector, fake_embedding(text), rtol=1e-6)


def test_it_asks_for_the_configured_dimensions(openai_server: FakeOpenAIServer, settings):
    settings.OPENAI_EMBEDDING_DIMENSIONS = 256

    embedder = OpenAIEmbedder()
    [vector] = embedder.embed(["Rødvin til lam"])

    assert embedder.dimension == 256
    assert len(vector) == 256
    assert openai_server.requests[0].body["dimensions"] == 256


def test_it_knows_the_native_dimension_of_the_model(settings):
    settings.OPENAI_EMBEDDING_MODEL = "text-embedding-3-large"

    assert OpenAIEmbedder().dimension == 3072
    assert OpenAIEmbedder(model="text-embedding-3-small").dimension == 1536


def test_blank_texts_keep_their_place(openai_server: FakeOpenAIServer):
    vectors = OpenAIEmbedder().embed(["Hej", "", "Farvel"])

    assert len(vectors) == 3
    np.testing.assert_allclose(vectors[2], fake_embedding("Farvel"), rtol=1e-6)


def test_no_texts_make_no_request(openai_server: FakeOpenAIServer):
    assert OpenAIEmbedder().embed([]) == []
    assert openai_server.requests == []


def test_embedding_errors_are_provider_errors(openai_server: FakeOpenAIServer):
    openai_server.script(status=503)

    with pytest.raises(ProviderError) as caught:
        OpenAIEmbedder().embed(["Hej"])

    assert caught.value.code == "provider_unavailable"


async def test_a_wrong_dimension_is_a_bad_response(openai_server: FakeOpenAIServer, settings):
    settings.OPENAI_EMBEDDING_MODEL = "some-compatible-model"
    openai_server.embedding_dimension = 768

    with pytest.raises(ProviderError) as caught:
        await OpenAIEmbedder().aembed(["Hej"])

    assert caught.value.code == "provider_bad_response"
    assert "OPENAI_EMBEDDING_DIMENSIONS" in caught.value.message
