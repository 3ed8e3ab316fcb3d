import itertools

from chatplatform.documents.chunking import text_chunk, token_count
from tests.chatplatform.documents.samples import long_markdown


def test_a_short_document_is_one_chunk_with_its_heading_as_section():
    [chunk] = text_chunk("# Returns\n\nYou may return wine within 30 days.")

    assert chunk.index == 0
    assert chunk.text == "# Returns\n\nYou may return wine within 30 days."
    assert chunk.section == "Returns"


def test_chunks_stay_near_the_token_budget():
    chunks = text_chunk(long_markdown(40), chunk_tokens=120, overlap_tokens=20)

    assert len(chunks) > 5
    assert all(chunk.tokens <= 120 for chunk in chunks)
    assert all(token_count(chunk.text) <= 130 for chunk in chunks)
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))


def shared_text(previous: str, following: str) -> str:
    """The longest start of `following` that `previous` ends with."""
    for length in range(len(following), 0, -1):
        if previous.endswith(following[:length]):
            return following[:length]
    return ""


def test_consecutive_chunks_overlap_by_whole_sentences():
    chunks = text_chunk(long_markdown(40), chunk_tokens=120, overlap_tokens=40)

    for previous, following in itertools.pairwise(chunks):
        overlap = shared_text(previous.text, following.text)
        assert overlap.split()[0] in {"Paragraph", "It", "Harvest"}, overlap
        assert overlap.endswith(".")
        assert 0 < token_count(overlap) <= 40


def test_without_overlap_no_sentence_is_repeated():
    chunks = text_chunk(long_markdown(40), chunk_tokens=120, overlap_tokens=0)

    sentences = [s for chunk in chunks for s in chunk.text.split("\n\n") if s.startswith("Paragraph")]
    assert len(sentences) == len(set(sentences)) == 40


def test_every_sentence_survives_chunking():
    text = long_markdown(40)
    joined = "\n".join(chunk.text for chunk in text_chunk(text, chunk_tokens=100, overlap_tokens=30))

    for number in range(40):
        assert f"Harvest {number} happens in September" in joined


def test_a_new_section_starts_a_new_chunk_and_keeps_its_heading():
    text = long_markdown(6, heading="Red wines") + "\n" + long_markdown(6, heading="White wines", seed="vine")

    chunks = text_chunk(text, chunk_tokens=200, overlap_tokens=30)

    white = [chunk for chunk in chunks if "vine" in chunk.text]
    assert white[0].text.startswith("# White wines")
    assert {chunk.section for chunk in white} == {"White wines"}
    assert {chunk.section for chunk in chunks if "grape" in chunk.text} == {"Red wines"}
    # The overlap never carries one section's sentences into another.
    assert not any("grape" in chunk.text for chunk in white)


def test_small_sections_are_packed_together():
    text = "# Shop\n\n## Hours\n\nOpen 10-18.\n\n## Address\n\nVesterbro 1.\n\n## Phone\n\nCall 12 34 56 78."

    [chunk] = text_chunk(text, chunk_tokens=300, overlap_tokens=50)

    assert chunk.section == "Hours"
    assert "Vesterbro 1." in chunk.text
    assert "Call 12 34 56 78." in chunk.text


def test_a_sentence_longer_than_a_chunk_is_cut_at_words():
    text = " ".join(f"word{n}" for n in range(400))

    chunks = text_chunk(text, chunk_tokens=60, overlap_tokens=10)

    assert len(chunks) > 5
    assert all(chunk.tokens <= 60 for chunk in chunks)
    assert "word399" in chunks[-1].text


def test_a_huge_word_is_cut_by_tokens():
    chunks = text_chunk("x" * 5000, chunk_tokens=50, overlap_tokens=0)

    assert "".join(chunk.text for chunk in chunks) == "x" * 5000


def test_a_document_of_headings_only_is_still_indexed():
    assert [chunk.text for chunk in text_chunk("# Coming soon")] == ["# Coming soon"]


def test_chunking_is_deterministic():
    text = long_markdown(30)

    assert text_chunk(text) == text_chunk(text)


def test_the_budget_comes_from_settings(settings):
    settings.KB_CHUNK_TOKENS = 80
    settings.KB_CHUNK_OVERLAP_TOKENS = 0

    chunks = text_chunk(long_markdown(20))

    assert all(chunk.tokens <= 80 for chunk in chunks)
    assert len(chunks) > len(text_chunk(long_markdown(20), chunk_tokens=300))
