"""A document's key terms, found by statistics and by how the text defines things.

No model and no network: a term scores by how many sentences use it, weighed up when the text
defines it ("X is the ...", "... is called X", "X, the ...,"), marks it bold, names it with
capitals or abbreviates it. Each term keeps the sentence that best supports it (its definition
when there is one), so everything built on it can quote its source.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from tutor.content.text import STOPWORDS, Sentence, comparable, term_pattern, word_key, word_set, words

_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_PRONOUNS = frozenset({"this", "it", "these", "they", "that", "those", "there", "which", "he", "she"})
_MONTHS = word_set(
    """
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    """
)
# Words too general to be a concept of any document on their own.
_GENERIC = word_set(
    """
    process value values number numbers data example case cases way ways part parts kind
    type types result results fact facts thing things time times people stage form forms use
    set sets amount level levels rate side end group groups idea ideas term terms rule rules
    """
)
# Everyday words that recur in any text without being what it is about.
_COMMON = word_set(
    """
    takes take report middle green small large high low new old good great important common
    main close early late long short whole well back based found given shows show place
    first second third last next
    """
)
_TERM_WORD = r"[\w'’+-]+(?:\.\d+)*"
_TERM_END = r"(?=\s*(?:[,;:)]|\.(?:\s|$)|$|\s(?:and|or|which|that|is|are|was|were|in|to|for|with|by)\s))"
_IS_DEFINITION = re.compile(
    rf"^(?:(?:the|a|an)\s+)?(?P<term>{_TERM_WORD}(?:\s{_TERM_WORD}){{0,4}}?)(?:\s\((?P<alias>[^()]{{1,20}})\))?"
    r"\s(?:is|are)\s(?P<definition>(?:the|a|an|one|any)\s.+?)\.?$",
    re.IGNORECASE,
)
_CALLED_END = re.compile(
    rf"^(?P<definition>.+?)\s(?:is|are|was|were)\s(?:called|known as|termed)\s(?:the\s|a\s|an\s)?"
    rf"(?P<term>{_TERM_WORD}(?:\s{_TERM_WORD}){{0,3}}?){_TERM_END}(?:\s+or\s+(?:the\s)?(?P<alias>[^,;.]+?))?",
    re.IGNORECASE,
)
_CALLED_INSIDE = re.compile(
    r"(?P<before>[^,;]+?)(?:,\s(?P<np>(?:a|an|the)\s[^,;]{0,40}?))?"
    r"\s(?:called|known as|termed)\s(?:the\s)?"
    rf"(?P<term>{_TERM_WORD}(?:\s{_TERM_WORD}){{0,3}}?){_TERM_END}",
    re.IGNORECASE,
)
_APPOSITIVE = re.compile(
    r"(?:^|\s)(?:the\s)?(?P<term>[A-Z][\w'’-]*(?:\s(?:of\s(?:the\s)?)?[A-Z][\w'’-]*){0,4}),\s"
    r"(?P<definition>(?:the|a|an)\s[^,;.]{3,80}?)(?:,|\.$|$)"
)
_PARENTHESIS = re.compile(r"(?P<before>(?:[\w'’-]+\s){0,4}[\w'’-]+)\s\((?P<inside>[^()]{1,40})\)")
_CAPITALISED = re.compile(r"[A-Z][\w'’-]*(?:\s(?:of\s(?:the\s)?)?[A-Z][\w'’-]*)*")
_ACRONYM = re.compile(r"(?<![\w-])[A-Z][A-Za-z]*[A-Z0-9+]+[A-Za-z0-9+]*(?![\w-])")
_VERB_START = re.compile(r"^(?:is|are|was|were|has|have|had|be)\s", re.IGNORECASE)
_ROMAN = re.compile(r"^[IVXLC]+$")
_POSSESSIVE = re.compile(r"['’]s$")
YEAR = re.compile(r"(?<![\w,.])(1[0-9]{3}|20[0-9]{2})(?![\w,])")

MAX_TERM_WORDS = 5


@dataclass(slots=True)
class Term:
    """A key term of the document, with the sentence that supports it best."""

    text: str
    key: str
    score: float = 0.0
    definition: str = ""
    sentence: Sentence | None = None
    # For "... This is called X": the sentence before, which the quote must include.
    previous: Sentence | None = None
    aliases: list[str] = field(default_factory=list)
    kind: str = "word"  # word | name | number
    count: int = 0

    @property
    def quote(self) -> str:
        if self.sentence is None:
            return ""
        if self.previous is not None:
            return f"{self.previous.text} {self.sentence.text}"
        return self.sentence.text

    @property
    def chunk_id(self) -> int:
        return self.sentence.chunk_id if self.sentence is not None else 0


def term_key(text: str) -> str:
    return " ".join(word_key(word) for word in words(_ARTICLE.sub("", text)))


def _usable(term: str) -> bool:
    parts = words(term)
    if not parts or len(parts) > MAX_TERM_WORDS:
        return False
    lowered = [part.casefold() for part in parts]
    if lowered[0] in _PRONOUNS or lowered[0] in STOPWORDS or lowered[-1] in STOPWORDS:
        return False
    if len(parts) == 1:
        word = lowered[0]
        if word in _GENERIC or word in _MONTHS or len(word) < 3 or _ROMAN.match(parts[0]):
            return False
        if term.islower() and (word.endswith(("ed", "ing", "ly")) or word in _COMMON):
            return False
    elif term.islower() and any(part in _COMMON for part in lowered):
        return False
    return not all(part.isdigit() for part in parts)


def _clean(term: str) -> str:
    return _ARTICLE.sub("", term.strip(" ,;:.\"'“”")).strip()


def _definitions(sentences: list[Sentence]) -> list[tuple[str, str, Sentence, Sentence | None, list[str]]]:
    """(term, definition, sentence, previous sentence if the quote needs it, aliases)."""
    found = []
    for index, sentence in enumerate(sentences):
        text = sentence.text
        previous = sentences[index - 1] if index else None
        if previous is not None and previous.paragraph != sentence.paragraph:
            previous = None
        if previous is not None and previous.chunk_id != sentence.chunk_id:
            previous = None
        lowered = text.casefold()
        # Cheap substring tests first: the patterns are slow on the many sentences without them.
        naming = " called " in lowered or " known as " in lowered or " termed " in lowered
        match = _CALLED_END.match(text) if naming else None
        if match:
            definition = match.group("definition")
            aliases = [_clean(match.group("alias"))] if match.group("alias") else []
            if definition.casefold() in _PRONOUNS:
                if previous is not None:
                    found.append(
                        (_clean(match.group("term")), previous.text.rstrip("."), sentence, previous, aliases)
                    )
            else:
                found.append((_clean(match.group("term")), definition, sentence, None, aliases))
            continue
        match = _IS_DEFINITION.match(text) if (" is " in lowered or " are " in lowered) else None
        if match:
            alias = match.group("alias")
            found.append(
                (
                    _clean(match.group("term")),
                    match.group("definition"),
                    sentence,
                    None,
                    [alias] if alias and _ACRONYM.fullmatch(alias) else [],
                )
            )
        for inside in _CALLED_INSIDE.finditer(text) if naming else ():
            before = inside.group("before").strip()
            definition = before.split(", ")[-1]
            noun = inside.group("np")
            if noun:
                # "water is split, a process called photolysis": the process in which water is split.
                joint = " in which " if noun.endswith(("process", "reaction")) else ": "
                if words(definition)[0].casefold() in STOPWORDS:
                    definition = definition[0].lower() + definition[1:]
                definition = f"{noun}{joint}{definition}"
            if _VERB_START.match(definition) is None and len(words(definition)) >= 2:
                found.append((_clean(inside.group("term")), definition, sentence, None, []))
        found.extend(
            (_clean(appositive.group("term")), appositive.group("definition"), sentence, None, [])
            for appositive in (_APPOSITIVE.finditer(text) if ", " in text else ())
        )
        for parenthesis in _PARENTHESIS.finditer(text) if "(" in text else ():
            before, inside = parenthesis.group("before"), parenthesis.group("inside").strip()
            parts = before.split()
            # "the clergy (First Estate)": a name given to what precedes it.
            if (
                _CAPITALISED.fullmatch(inside)
                and " " in inside
                and len(parts) >= 2
                and _ARTICLE.match(parts[-2] + " ")
            ):
                found.append((inside, f"{parts[-2]} {parts[-1]}", sentence, None, []))
    return found


def _acronym_aliases(sentences: list[Sentence]) -> dict[str, str]:
    """ "ribulose bisphosphate (RuBP)": the phrase's key -> the acronym."""
    aliases: dict[str, str] = {}
    for sentence in sentences:
        for match in _PARENTHESIS.finditer(sentence.text) if "(" in sentence.text else ():
            inside = match.group("inside").strip()
            if not _ACRONYM.fullmatch(inside):
                continue
            capitals = sum(1 for char in inside if char.isupper())
            if capitals < 2:
                continue
            phrase: list[str] = []
            for word in reversed(match.group("before").split()):
                if word.casefold() in STOPWORDS or len(phrase) >= capitals:
                    break
                phrase.insert(0, word)
            if phrase:
                aliases[term_key(" ".join(phrase))] = inside
    return aliases


def _candidates(sentences: list[Sentence]) -> Counter:
    """Surface forms of term candidates, counted once per sentence."""
    counts: Counter = Counter()
    for sentence in sentences:
        text = sentence.text
        found: set[str] = set()
        for match in _CAPITALISED.finditer(text):
            phrase = match.group(0)
            start = match.start()
            if start == 0 or text[:start].rstrip().endswith((".", ":", '"', "“")):
                # A capital at the start of a sentence says nothing, unless a second capital
                # follows ("Louis XVI", "The Third Estate").
                parts = phrase.split()
                if parts[0].casefold() in STOPWORDS:
                    phrase = " ".join(parts[1:])
                elif len(parts) < 2:
                    continue
            phrase = _POSSESSIVE.sub("", phrase)
            if phrase and phrase.casefold() not in _MONTHS:
                found.add(phrase)
                # "Calvin cycle": a name and the noun it qualifies (kept when it recurs).
                following = re.match(r"\s([a-z][a-z-]{2,})\b", text[match.end() :])
                if following and following.group(1) not in STOPWORDS:
                    found.add(f"{phrase} {following.group(1)}")
        found.update(_ACRONYM.findall(text))
        found.update(YEAR.findall(text))
        tokens = words(text)
        lowered = [token.casefold() for token in tokens]
        for index, token in enumerate(lowered):
            if token in STOPWORDS or not token.isalpha() or len(token) < 4:
                continue
            if not tokens[index].islower():
                continue
            found.add(tokens[index])
            if index + 1 < len(tokens):
                following = lowered[index + 1]
                if following not in STOPWORDS and tokens[index + 1].islower() and len(following) >= 3:
                    found.add(f"{tokens[index]} {tokens[index + 1]}")
        counts.update(found)
    return counts


def key_terms(sentences: list[Sentence], *, limit: int = 40) -> list[Term]:
    """The document's key terms, best first.

    A term is a capitalised name, an abbreviation, a year, a phrase the text defines or makes
    bold, or a lowercase word or pair that several sentences use (a pair only when it recurs).
    """
    terms: dict[str, Term] = {}
    counts = _candidates(sentences)
    for surface, count in counts.items():
        if not _usable(surface):
            continue
        is_pair = " " in surface and surface.split()[-1].islower()
        is_word = surface.islower() and " " not in surface
        if (is_pair and count < 2) or (is_word and count < 3):
            continue
        key = term_key(surface)
        term = terms.get(key)
        if term is None:
            kind = "number" if surface.isdigit() else ("word" if surface.islower() else "name")
            term = terms[key] = Term(text=surface, key=key, kind=kind)
        term.count += count

    for text, definition, sentence, previous, aliases in _definitions(sentences):
        if not _usable(text) or len(words(definition)) < 2:
            continue
        key = term_key(text)
        term = terms.get(key)
        if term is None:
            term = terms[key] = Term(text=text, key=key, kind="word" if text.islower() else "name")
            term.count = sum(1 for s in sentences if term_pattern(text).search(s.text))
        if not term.definition:
            term.definition = definition.strip().rstrip(".")
            term.sentence = sentence
            term.previous = previous
            term.aliases = [alias for alias in aliases if _usable(alias)]
            if text[0].islower() or term.text.islower():
                term.text = text

    acronyms = _acronym_aliases(sentences)
    for term in terms.values():
        if term.key in acronyms and acronyms[term.key] not in term.aliases:
            term.aliases.append(acronyms[term.key])
        if term.sentence is None:
            term.sentence = _best_sentence(term, sentences)
        bonus = 3.0 if term.definition else 0.0
        bonus += {"name": 1.0, "number": -0.5, "word": 0.0}[term.kind]
        bonus += 0.5 * (len(term.key.split()) > 1)
        term.score = math.log1p(term.count) * 2 + bonus

    acronym_keys = {term_key(alias) for alias in acronyms.values()}
    ranked = sorted(
        (t for t in terms.values() if t.sentence is not None and t.key not in acronym_keys),
        key=lambda t: (-t.score, t.sentence.order, t.key),
    )
    chosen: list[Term] = []
    for term in ranked:
        # "carbon dioxide" and "carbon": one concept, not two; unless the text defines both
        # ("range" and "interquartile range").
        if any(
            terms_overlap(term.key, other.key) and not (term.definition and other.definition)
            for other in chosen
        ):
            continue
        chosen.append(term)
        if len(chosen) >= limit:
            break
    return chosen


def terms_overlap(key: str, other: str) -> bool:
    a, b = f" {key} ", f" {other} "
    return a in b or b in a


def _best_sentence(term: Term, sentences: list[Sentence]) -> Sentence | None:
    pattern = term_pattern(term.text)
    best: Sentence | None = None
    for sentence in sentences:
        if not pattern.search(sentence.text):
            continue
        size = len(sentence.text.split())
        if 6 <= size <= 40:
            return sentence
        if best is None:
            best = sentence
    return best


def terms_by_focus(terms: list[Term], focus: list[str]) -> list[Term]:
    """The terms with those the learner missed first (in the order missed), the rest after."""
    wanted = [comparable(item) for item in focus if item]
    first: list[Term] = []
    for item in wanted:
        for term in terms:
            if term not in first and (comparable(term.text) == item or term_key(term.text) == term_key(item)):
                first.append(term)
    return first + [term for term in terms if term not in first]
