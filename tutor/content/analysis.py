"""A session's analysis: a short summary and its key concepts, each defined and quoted.

`analysis_local` builds it from the text alone (extractive summary, statistical key terms);
`analysis_llm` asks a language model and keeps only the concepts whose quote is really in the
chunk it names.
"""

from __future__ import annotations

import math

from chatplatform.ai.base import ChatProvider
from tutor.content import llm
from tutor.content.drafts import AnalysisDraft, ConceptDraft, SourceChunk
from tutor.content.terms import Term, key_terms, terms_by_focus
from tutor.content.text import Sentence, contains_quote, document_sentences, supported_fraction, term_pattern

MAX_CONCEPTS = 12
SUMMARY_SENTENCES = 5
SUMMARY_WORDS = 140


def analysis_local(chunks: list[SourceChunk], *, focus: list[str] | tuple[str, ...] = ()) -> AnalysisDraft:
    sentences = document_sentences(chunks)
    terms = terms_by_focus(key_terms(sentences), list(focus))
    return AnalysisDraft(summary=summary_extract(sentences, terms), concepts=concepts_from_terms(terms))


def concepts_from_terms(terms: list[Term], *, limit: int = MAX_CONCEPTS) -> list[ConceptDraft]:
    """Defined terms and names make concepts; a plain word only when it is defined."""
    concepts: list[ConceptDraft] = []
    for term in terms:
        if term.sentence is None or term.kind == "number":
            continue
        if term.kind == "word" and not term.definition and " " not in term.text:
            continue  # a frequent word ("energy") is a theme, not a concept to define
        concepts.append(
            ConceptDraft(
                term=term.text,
                definition=term.definition or term.sentence.text,
                chunk_id=term.chunk_id,
                quote=term.quote,
                aliases=list(term.aliases),
            )
        )
        if len(concepts) >= limit:
            break
    return concepts


def summary_extract(sentences: list[Sentence], terms: list[Term]) -> str:
    """The opening sentence and the sentences that carry the most key terms, in reading order."""
    if not sentences:
        return ""
    weights = {term.key: term.score for term in terms[:20]}
    patterns = [(term.key, term_pattern(term.text)) for term in terms[:20]]

    def score(sentence: Sentence) -> float:
        size = len(sentence.text.split())
        if size < 6:
            return 0.0
        found = sum(weights[key] for key, pattern in patterns if pattern.search(sentence.text))
        return found / math.sqrt(size)

    ranked = sorted(sentences[1:], key=lambda s: (-score(s), s.order))
    chosen = [sentences[0]] if len(sentences[0].text.split()) >= 6 else []
    words = sum(len(s.text.split()) for s in chosen)
    for sentence in ranked:
        if len(chosen) >= SUMMARY_SENTENCES or score(sentence) == 0:
            break
        size = len(sentence.text.split())
        if words + size > SUMMARY_WORDS and chosen:
            continue
        chosen.append(sentence)
        words += size
    if not chosen:
        # Too little text for key terms: its opening is its summary.
        chosen = sentences[:SUMMARY_SENTENCES]
    return " ".join(s.text for s in sorted(chosen, key=lambda s: s.order))


ANALYSIS_SYSTEM = (
    "You are a tutor preparing a study analysis of a learner's documents. Reply with one JSON "
    'object: {"summary": "<a summary of at most 150 words>", "concepts": [{"term": "...", '
    '"definition": "<one sentence>", "source": "C1", "quote": "..."}]} with 5 to 12 key concepts, '
    "most important first. " + llm.GROUNDING_RULES
)


async def analysis_llm(
    provider: ChatProvider, chunks: list[SourceChunk], *, focus: list[str] | tuple[str, ...] = ()
) -> AnalysisDraft | None:
    """The model's analysis with only its grounded concepts; None when none is grounded."""
    listing, labels = llm.sources_listing(chunks, focus=focus)
    user = listing
    if focus:
        user = f"The learner missed these concepts last time; include them: {', '.join(focus)}.\n\n{listing}"
    result = await llm.ask(provider, system=ANALYSIS_SYSTEM, user=user)
    concepts: list[ConceptDraft] = []
    seen: set[str] = set()
    for item in llm.items(result, "concepts")[:MAX_CONCEPTS]:
        chunk = llm.source_chunk(item, labels)
        term, quote = llm.text_field(item, "term", limit=200), llm.text_field(item, "quote")
        definition = llm.text_field(item, "definition")
        if chunk is None or not term or not definition or term.casefold() in seen:
            continue
        if not contains_quote(chunk.text, quote) or supported_fraction(term, quote) < 1.0:
            continue
        seen.add(term.casefold())
        concepts.append(ConceptDraft(term=term, definition=definition, chunk_id=chunk.id, quote=quote))
    summary = llm.text_field(result, "summary", limit=3000)
    if not concepts or not summary:
        return None
    return AnalysisDraft(summary=summary, concepts=concepts)
