"""A lesson from a session's documents: sections with objectives, an explanation and examples.

Locally each section follows a heading of the documents: its objectives name the section's key
terms (those the learner missed first), its explanation is the section's most informative
sentences and its examples the sentences that give instances ("such as", worked numbers). Every
section cites the chunks its sentences come from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chatplatform.ai.base import ChatProvider
from tutor.content import llm
from tutor.content.drafts import LessonDraft, SectionDraft, SourceChunk
from tutor.content.terms import Term, key_terms, term_key, terms_by_focus
from tutor.content.text import Sentence, comparable, document_sentences, document_title, term_pattern

MAX_SECTIONS = 8
EXPLANATION_SENTENCES = 4
MAX_EXAMPLES = 2
_EXAMPLE_CUE = re.compile(
    r"\b(?:such as|for example|for instance|e\.g\.|including|for the data set|for \d)|=|\d+\s*(?:%|degrees)",
    re.IGNORECASE,
)

_CONCRETE = re.compile(r"\b\d")


@dataclass
class _Group:
    title: str
    sentences: list[Sentence] = field(default_factory=list)


def lesson_local(chunks: list[SourceChunk], *, focus: list[str] | tuple[str, ...] = ()) -> LessonDraft:
    sentences = document_sentences(chunks)
    terms = terms_by_focus(key_terms(sentences), list(focus))
    missed = {term_key(item) for item in focus}
    groups = _sections_of(sentences)
    taught: set[str] = set()
    sections = [_section(group, terms, missed, taught) for group in groups]
    title = document_title(chunks) or (f"Lesson: {terms[0].text}" if terms else "Lesson")
    focus_found = [term.text for term in terms if term.key in missed]
    return LessonDraft(title=title, sections=[s for s in sections if s.explanation], focus=focus_found)


def _sections_of(sentences: list[Sentence]) -> list[_Group]:
    groups: list[_Group] = []
    for sentence in sentences:
        if not groups or sentence.heading != groups[-1].title:
            groups.append(_Group(sentence.heading))
        groups[-1].sentences.append(sentence)
    if len(groups) == 1 and len({s.chunk_id for s in sentences}) > 1:
        # No headings: one section per chunk instead.
        groups = []
        for sentence in sentences:
            if not groups or sentence.chunk_id != groups[-1].sentences[-1].chunk_id:
                groups.append(_Group(""))
            groups[-1].sentences.append(sentence)
    # A document title standing alone over a single sentence joins the next section.
    while len(groups) > MAX_SECTIONS:
        smallest = min(
            range(len(groups) - 1), key=lambda i: len(groups[i].sentences) + len(groups[i + 1].sentences)
        )
        first, second = groups[smallest], groups.pop(smallest + 1)
        first.sentences.extend(second.sentences)
        first.title = first.title or second.title
    return groups


def _section(group: _Group, terms: list[Term], missed: set[str], taught: set[str]) -> SectionDraft:
    present = [term for term in terms if any(term_pattern(term.text).search(s.text) for s in group.sentences)]
    # Each term is an objective once, where the text explains it (or first mentions it).
    teachable = [t for t in present if t.key not in taught and (_worth_teaching(t) or t.key in missed)]
    own = [t for t in teachable if t.sentence in group.sentences]
    others = [t for t in teachable if t not in own]
    objective_terms = sorted(own + others, key=lambda t: t.key not in missed)[:3]
    taught.update(t.key for t in objective_terms)
    weights = {term.key: term.score for term in present}
    patterns = [(term.key, term_pattern(term.text)) for term in present]

    def score(sentence: Sentence) -> float:
        return sum(weights[key] for key, pattern in patterns if pattern.search(sentence.text))

    examples = [s for s in group.sentences if _EXAMPLE_CUE.search(s.text)][:MAX_EXAMPLES]
    if not examples and len(group.sentences) >= 3:
        # No "such as": a dated or numbered event after the opening is the section's instance.
        examples = [s for s in group.sentences[1:] if _CONCRETE.search(s.text)][-1:]
    rest = [s for s in group.sentences if s not in examples]
    explanation = sorted(
        sorted(rest, key=lambda s: (-score(s), s.order))[:EXPLANATION_SENTENCES], key=lambda s: s.order
    )
    if not explanation and examples:
        explanation, examples = examples[:1], examples[1:]
    if not examples:
        extra = [s for s in rest if s not in explanation and score(s) > 0]
        examples = extra[:1]
    title = group.title or (present[0].text[:1].upper() + present[0].text[1:] if present else "Overview")
    used = sorted({*explanation, *examples}, key=lambda s: s.order)
    chunk_ids = list(dict.fromkeys(s.chunk_id for s in used))
    return SectionDraft(
        title=title,
        objectives=_objectives(objective_terms, missed, group.title),
        explanation=" ".join(s.text for s in explanation),
        examples=[s.text for s in examples],
        chunk_ids=chunk_ids,
    )


def _worth_teaching(term: Term) -> bool:
    """A defined term, a recurring name or a phrase; not a lone frequent word ("plants")."""
    if term.definition:
        return True
    return " " in term.text or (term.kind == "name" and term.count >= 2)


def _objectives(terms: list[Term], missed: set[str], title: str) -> list[str]:
    objectives: list[str] = []
    for term in terms:
        if term.key in missed:
            objectives.append(f"Revisit {term.text}, which your last summary left out.")
        elif term.definition:
            objectives.append(f"Define {term.text} in your own words.")
        elif term.kind == "name":
            objectives.append(f"Explain the part {term.text} plays here.")
        else:
            objectives.append(f"Describe what the text says about {term.text}.")
    return objectives or [
        f"Summarise “{title}” in two sentences." if title else "Summarise this section in two sentences."
    ]


LESSON_SYSTEM = (
    "You are a tutor writing a lesson from a learner's documents. Reply with one JSON object: "
    '{"title": "...", "sections": [{"title": "...", "objectives": ["<learning objective>", ...], '
    '"explanation": "<a clear explanation>", "examples": ["<a concrete example>", ...], '
    '"sources": ["C1", ...]}]} with 2 to 8 sections in a sensible teaching order. Every section '
    "lists in `sources` the labels of the passages it is based on. Use only the passages below, "
    "labelled like [C1]; never invent facts."
)


async def lesson_llm(
    provider: ChatProvider, chunks: list[SourceChunk], *, focus: list[str] | tuple[str, ...] = ()
) -> LessonDraft | None:
    """The model's lesson, keeping the sections that cite at least one real passage."""
    listing, labels = llm.sources_listing(chunks, focus=focus)
    user = listing
    if focus:
        missed = ", ".join(focus)
        user = (
            f"The learner missed these concepts last time; give them extra attention: {missed}.\n\n{listing}"
        )
    result = await llm.ask(provider, system=LESSON_SYSTEM, user=user)
    sections: list[SectionDraft] = []
    for item in llm.items(result, "sections")[:MAX_SECTIONS]:
        cited = [labels[label] for label in _labels(item.get("sources")) if label in labels]
        explanation = llm.text_field(item, "explanation", limit=6000)
        if not cited or not explanation:
            continue
        sections.append(
            SectionDraft(
                title=llm.text_field(item, "title", limit=200) or "Section",
                objectives=llm.list_field(item, "objectives")[:6],
                explanation=explanation,
                examples=llm.list_field(item, "examples")[:4],
                chunk_ids=list(dict.fromkeys(chunk.id for chunk in cited)),
            )
        )
    if not sections:
        return None
    text = comparable(" ".join(s.explanation for s in sections))
    return LessonDraft(
        title=llm.text_field(result, "title", limit=200) or "Lesson",
        sections=sections,
        focus=[item for item in focus if comparable(item) in text],
    )


def _labels(value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [str(label).strip().strip("[]").upper() for label in value]
