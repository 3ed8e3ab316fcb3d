import asyncio

import numpy as np
import pytest

from chatplatform.ai.base import ProviderError
from chatplatform.ai.local import LocalEmbedder
from chatplatform.ai.openai import OpenAIEmbedder
from tests.fakes.openai_server import FakeOpenAIServer, Reply, fake_embedding
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("openai_settings")


async def test_a_question_asked_again_is_not_embedded_again(openai_server: FakeOpenAIServer):
    embedder = OpenAIEmbedder()

    first = await embedder.aembed_query("Hvad koster fragt til Bornholm?")
    again = await embedder.aembed_query("Hvad koster fragt til Bornholm?")

    assert len(openai_server.requests) == 1
    np.testing.assert_allclose(first, fake_embedding("Hvad koster fragt til Bornholm?"), rtol=1e-6)
    np.testing.assert_array_equal(again, first)


async def test_questions_asked_together_share_one_request(openai_server: FakeOpenAIServer):
    embedder = OpenAIEmbedder()
    questions = ["Fragt til Bornholm?", "Åbnet vin, hvor længe?", "Fragt til Bornholm?", "Returret?"]

    vectors = await asyncio.gather(*(embedder.aembed_query(q) for q in questions))

    assert [sent.body["input"] for sent in openai_server.requests] == [
        ["Fragt til Bornholm?", "Åbnet vin, hvor længe?", "Returret?"]
    ]
    for question, vector in zip(questions, vectors, strict=True):
        np.testing.assert_allclose(vector, fake_embedding(question), rtol=1e-6)


async def test_the_least_recently_asked_question_is_forgotten_first(openai_server, settings):
    settings.QUERY_EMBEDDING_CACHE_SIZE = 2
    embedder = OpenAIEmbedder()

    for question in ["a", "b", "a", "c", "a", "b"]:
        await embedder.aembed_query(question)

    # "b" was pushed out by "c"; "a" stayed because it was asked again.
    assert [sent.body["input"] for sent in openai_server.requests] == [["a"], ["b"], ["c"], ["b"]]


async def test_a_failed_request_fails_every_question_in_it_and_is_not_remembered(
    openai_server: FakeOpenAIServer,
):
    embedder = OpenAIEmbedder()
    openai_server.script(Reply(status=503))

    results = await asyncio.gather(
        embedder.aembed_query("Fragt?"), embedder.aembed_query("Retur?"), return_exceptions=True
    )

    assert [type(result) for result in results] == [ProviderError, ProviderError]
    assert results[0].code == "provider_unavailable"
    await embedder.aembed_query("Fragt?")
    assert len(openai_server.requests) == 2


async def test_a_cancelled_question_does_not_cancel_the_others_in_its_request(openai_server):
    embedder = OpenAIEmbedder()
    openai_server.default_reply = Reply(first_token_delay=0.2)
    leaving = asyncio.ensure_future(embedder.aembed_query("Fragt?"))
    staying = asyncio.ensure_future(embedder.aembed_query("Fragt?"))
    await until(lambda: len(openai_server.requests) == 1, timeout=10)  # both are in that request

    leaving.cancel()

    np.testing.assert_allclose(await staying, fake_embedding("Fragt?"), rtol=1e-6)
    assert leaving.cancelled()


async def test_the_local_embedder_embeds_a_question_like_any_text():
    embedder = LocalEmbedder()

    vector = await embedder.aembed_query("Hvad koster fragt til Bornholm?")

    np.testing.assert_allclose(vector, embedder.embed(["Hvad koster fragt til Bornholm?"])[0], rtol=1e-6)
