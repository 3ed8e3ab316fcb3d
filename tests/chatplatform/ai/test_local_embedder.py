import subprocess
import sys
from pathlib import Path

import numpy as np

from chatplatform.ai import get_embedder
from chatplatform.ai.local import LocalEmbedder

REPO_ROOT = Path(__file__).resolve().parents[3]


def cosine(first: list[float], second: list[float]) -> float:
    return float(np.dot(first, second))


def test_it_is_the_embedder_without_an_openai_key(settings):
    settings.AI_PROVIDER = "local"

    embedder = get_embedder()

    assert isinstance(embedder, LocalEmbedder)
    assert embedder is get_embedder()


def test_it_gives_the_same_vector_for_the_same_text():
    first = LocalEmbedder().embed(["Levering til Bornholm koster 49 kr."])
    second = LocalEmbedder().embed(["Levering til Bornholm koster 49 kr."])

    assert first == second


def test_it_gives_the_same_vector_in_another_process():
    # Python's own str hash changes per process; the vectors must not.
    code = (
        "from chatplatform.ai.local import LocalEmbedder;"
        "print(repr(LocalEmbedder(dimension=64).embed(['Rødvin til lam'])[0][:8]))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={
            "PYTHONHASHSEED": "12345",
            "PYTHONPATH": str(REPO_ROOT),
            "DJANGO_SETTINGS_MODULE": "chatplatform.settings",
        },
        cwd=REPO_ROOT,
    ).stdout

    assert output.strip() == repr(LocalEmbedder(dimension=64).embed(["Rødvin til lam"])[0][:8])


def test_vectors_are_l2_normalised_and_sized_by_the_setting(settings):
    settings.LOCAL_EMBEDDING_DIMENSION = 128

    embedder = LocalEmbedder()
    vectors = embedder.embed(["Hej", "An opened bottle keeps for 2-4 days.", "æøå " * 50])

    assert embedder.dimension == 128
    assert all(len(vector) == 128 for vector in vectors)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_an_empty_text_gives_a_zero_vector():
    [vector] = LocalEmbedder(dimension=32).embed(["  "])

    assert vector == [0.0] * 32


def test_related_texts_are_closer_than_unrelated_ones():
    question, shipping, tasting = LocalEmbedder().embed(
        [
            "Hvad koster levering til Bornholm?",
            "Vi leverer til hele Danmark, også Bornholm.",
            "We hold wine tastings in the shop on Thursdays.",
        ]
    )

    assert cosine(question, shipping) > 0.2
    assert cosine(question, shipping) > 2 * cosine(question, tasting)


def test_word_forms_share_character_ngrams_and_danish_letters_count():
    delivery, delivered, other, ascii_spelling = LocalEmbedder().embed(
        ["levering", "leveringen", "rødvin", "rodvin"]
    )

    assert cosine(delivery, delivered) > 0.4
    assert cosine(delivery, other) < 0.1
    assert cosine(other, ascii_spelling) < 0.9  # "ø" is a letter of its own, not folded to "o"


async def test_aembed_gives_the_same_vectors_as_embed():
    texts = [f"Spørgsmål {number}" for number in range(40)]  # large enough to go to a thread

    assert await LocalEmbedder().aembed(texts) == LocalEmbedder().embed(texts)
