import re

import numpy as np
import pytest

from chatplatform.ai import get_chat_provider
from chatplatform.ai.base import ContextChunk, ProviderError
from chatplatform.ai.local import LocalChatProvider, LocalEmbedder
from tests.chatplatform.ai.conftest import SHOP_KB, chat_request


def shop_kb_chunks() -> list[tuple[str, str]]:
    """Each Markdown file is one document, cut into its paragraphs and lists, under its title."""
    chunks = []
    for path in sorted(SHOP_KB.glob("*.md")):
        blocks = [block.strip() for block in path.read_text().split("\n\n") if block.strip()]
        title = blocks[0] if blocks[0].startswith("#") else ""
        chunks.extend((path.name, f"{title}\n\n{block}") for block in blocks if block != title)
    return chunks


@pytest.fixture(scope="module")
def retrieve():
    embedder = LocalEmbedder(dimension=512)
    chunks = shop_kb_chunks()
    matrix = embedder.embed_matrix([text for _, text in chunks])

    def top4(question: str) -> list[ContextChunk]:
        scores = matrix @ embedder.embed_matrix([question])[0]
        best = np.argsort(-scores)[:4]
        return [ContextChunk(text=chunks[i][1], source=chunks[i][0], score=float(scores[i])) for i in best]

    return top4


async def answer(question: str, context: list[ContextChunk], language: str) -> tuple[list[str], object]:
    stream = LocalChatProvider(LocalEmbedder(dimension=512)).stream_chat(
        chat_request(question, context, language)
    )
    deltas = [delta async for delta in stream]
    return deltas, stream.usage


def test_it_is_the_chat_provider_without_an_openai_key(settings):
    settings.AI_PROVIDER = "local"

    assert isinstance(get_chat_provider(), LocalChatProvider)


async def test_it_answers_the_bornholm_shipping_question_in_danish_from_levering_da(retrieve):
    context = retrieve("Hvad koster fragt til Bornholm?")

    deltas, _ = await answer("Hvad koster fragt til Bornholm?", context, "da")
    text = "".join(deltas)

    assert "levering-da.md" in [chunk.source for chunk in context]
    assert "Bornholm" in text
    assert re.search(r"\d[\d.]* kr\.", text)
    assert "DKK" not in text  # the English shipping page has the same facts; the asker wrote Danish


async def test_it_answers_how_long_an_opened_bottle_keeps_from_storage(retrieve):
    context = retrieve("How long can I keep an opened bottle of wine?")

    deltas, _ = await answer("How long can I keep an opened bottle of wine?", context, "en")
    text = "".join(deltas)

    assert "storage.md" in [chunk.source for chunk in context]
    assert "2-4 days" in text
    assert 1 <= len(re.findall(r"[.!?](?:\s|$)", text)) <= 3


async def test_it_answers_in_the_language_of_the_request_when_both_have_the_facts(retrieve):
    context = retrieve("How much is shipping to Bornholm?") + retrieve("Hvad koster fragt til Bornholm?")

    english, _ = await answer("How much is shipping to Bornholm?", context, "en")

    assert "Bornholm" in "".join(english)
    assert "Vi leverer" not in "".join(english)


async def test_it_streams_word_by_word_and_counts_words_as_usage(retrieve):
    question = "How long can I keep an opened bottle of wine?"
    context = retrieve(question)
    provider = LocalChatProvider(LocalEmbedder(dimension=512))
    request = chat_request(question, context, "en")

    stream = provider.stream_chat(request)
    deltas = [delta async for delta in stream]

    assert "".join(deltas) == provider.answer_text(request)
    assert all(re.fullmatch(r"\S+ ?", delta) for delta in deltas)
    assert stream.usage.completion_tokens == len(deltas)
    assert stream.usage.prompt_tokens == sum(len(message["content"].split()) for message in request.messages)


async def test_it_gives_the_same_answer_every_time(retrieve):
    context = retrieve("Can I return a bottle?")

    first, _ = await answer("Can I return a bottle?", context, "en")
    second, _ = await answer("Can I return a bottle?", context, "en")

    assert first == second


async def test_it_does_not_repeat_a_sentence_found_in_two_chunks():
    sentence = "Gift wrapping in a wooden box costs 59 DKK."
    context = [ContextChunk(text=sentence, source=f"doc{number}", score=0.5) for number in range(3)]

    deltas, _ = await answer("How much does gift wrapping cost?", context, "en")

    assert "".join(deltas) == sentence


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("da", "Det kunne jeg desværre ikke finde i vores vidensbase."),
        ("en", "I could not find that in our knowledge base."),
        ("sv", "Det kunde jag tyvärr inte hitta i vår kunskapsbas."),
        ("de", "Das konnte ich leider nicht in unserer Wissensdatenbank finden."),
        ("da-DK", "Det kunne jeg desværre ikke finde i vores vidensbase."),
    ],
)
async def test_without_context_it_says_it_could_not_find_it_in_the_language(language: str, expected: str):
    deltas, usage = await answer("Who won the 1998 World Cup?", [], language)

    assert "".join(deltas) == expected
    assert usage.completion_tokens == len(expected.split())


async def test_unrelated_context_is_not_used(retrieve):
    context = retrieve("Who won the football world cup in 1998?")

    deltas, _ = await answer("Who won the football world cup in 1998?", context, "en")

    assert "".join(deltas) == "I could not find that in our knowledge base."


async def test_json_extraction_is_not_supported_locally():
    with pytest.raises(ProviderError) as caught:
        await LocalChatProvider().complete_json(system="Classify.", user="Hej")

    assert caught.value.code == "provider_not_supported"
    assert caught.value.retryable is False


async def test_aclose_ends_a_local_stream():
    context = [ContextChunk(text="An opened bottle keeps for 2-4 days in the fridge.", source="s", score=1.0)]
    stream = LocalChatProvider().stream_chat(chat_request("How long does an opened bottle keep?", context))

    first = await anext(stream)
    await stream.aclose()

    assert first == "An "
    assert [delta async for delta in stream] == []


def document_context(*names: str) -> list[ContextChunk]:
    return [ContextChunk(text=(SHOP_KB / name).read_text(), source=name, score=0.5) for name in names]


async def test_it_answers_the_price_asked_for_not_only_the_sentence_that_shares_words():
    deltas, _ = await answer(
        "Hvad koster fragt til Bornholm?", document_context("levering-da.md", "shipping.md"), "da"
    )

    assert re.search(r"\b(49|79) kr\.", "".join(deltas))


async def test_it_picks_the_list_item_about_the_dish_asked_for():
    deltas, _ = await answer("Which red wine goes with lamb?", document_context("pairing.md"), "en")

    assert "Roast lamb, beef steaks: Bordeaux" in "".join(deltas)


async def test_a_danish_question_is_answered_from_an_english_document():
    deltas, _ = await answer(
        "Hvor mange år kan man bruge et gavekort?", document_context("giftcards.md", "payment.md"), "da"
    )

    assert "3 years" in "".join(deltas)


async def test_not_found_only_when_no_line_matches_and_in_the_asked_language():
    deltas, _ = await answer(
        "Who won the football world cup?", document_context("tastings.md", "storage.md"), "en"
    )

    assert "".join(deltas) == "I could not find that in our knowledge base."
