"""Index layouts: the embedding model a chatbot names, and the embedder that reads its index."""

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ValidationError

from chatplatform.ai import get_embedder
from conversations.knowledge.layouts import IndexLayout, embedder_for, embedding_model_parse


def test_a_model_is_known_by_name_or_given_with_its_dimension():
    assert embedding_model_parse("text-embedding-ada-002").dimension == 1536
    reduced = embedding_model_parse("text-embedding-3-large@1024")
    assert (reduced.name, reduced.dimension, reduced.explicit_dimension) == (
        "text-embedding-3-large",
        1024,
        True,
    )
    with pytest.raises(ValidationError, match="write it as my-model@DIMENSION"):
        embedding_model_parse("my-model")
    with pytest.raises(ValidationError):
        embedding_model_parse("two words")


def test_the_openai_embedder_of_a_named_model_asks_for_that_model(openai_settings, openai_server):
    embedder = embedder_for("text-embedding-3-large@1024")

    vector = async_to_sync(embedder.aembed_query)("Hvad koster levering?")

    assert len(vector) == 1024
    body = openai_server.requests[-1].body
    assert (body["model"], body["dimensions"]) == ("text-embedding-3-large", 1024)
    assert embedder_for("text-embedding-3-large@1024") is embedder
    assert embedder_for("text-embedding-3-small") is get_embedder()
    embedder_for("text-embedding-ada-002").embed(["Levering"])
    assert "dimensions" not in openai_server.requests[-1].body  # older models refuse it


def test_a_record_reads_its_title_and_url_and_the_platforms_records_still_read():
    old_shape = IndexLayout("", "content", "title", "url", "")

    assert old_shape.passage({"content": "P", "title": "T", "url": "https://x.example/p"}) == (
        "P",
        "T",
        "https://x.example/p",
    )
    # Written by this platform: `text`, and `source` holding the document's title.
    assert old_shape.passage({"text": "P", "source": "Shipping"}) == ("P", "Shipping", "")
    assert old_shape.passage({"content": "P", "url": "javascript:alert(1)"}) == (
        "P",
        "javascript:alert(1)",
        "",
    )
