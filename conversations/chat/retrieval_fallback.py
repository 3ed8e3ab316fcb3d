"""Routing that cannot strand a question: the chatbot's other indexes are searched too when
they may answer better, and the flow whose passages answer best takes over.

A router reads only the flows' descriptions; the passages themselves are the better judge. On
the local store, the question is matched with every sentence of the chatbot's indexes at once
(BM25 statistics kept per version, `knowledge/lexical.py`): when another index holds a better
sentence, that flow is searched too and takes over if its passages answer better, else only the
routed flow is searched. On Pinecone the other indexes are asked only when the routed flow's best
passage is weak, all at once: one round trip more at most.
"""

from __future__ import annotations

import asyncio

from conversations.chat.flow_router import Route
from conversations.chat.rank_fusion import COSINE, COVERAGE
from conversations.chat.retrieval import Retrieval, retrieve
from conversations.knowledge.layouts import index_layout
from conversations.knowledge.lexical import ChatbotPassages, chatbot_lexical_index
from conversations.models import ChatbotSettings, Flow

# A passage holding this much of the question's idf weight, or this similar to it, is strong
# enough: the routed flow's answer stands.
STRONG = 0.6
# Another flow takes over only when its best passage is stronger by this much, plus this share
# of the router's confidence (its similarity).
MARGIN = 0.0
ROUTER_TRUST = 0.1
# On the local store a flow's best chunk is weighed by its best sentence's coverage of the
# question (plus HEAD_WEIGHT times its subject's), the chunk's coverage as a whole (words strewn
# over one document count a little) and its cosine (a tie-breaker).
HEAD_WEIGHT = 1.0
CHUNK_WEIGHT = 0.5
COSINE_WEIGHT = 0.05
# Other flows whose best sentence comes this close to the routed flow's are searched too.
RIVAL_FRACTION = 0.8
MAX_RIVALS = 2


def strength(retrieval: Retrieval) -> float:
    """How well the best passage matches: the better of its cosine and its lexical coverage
    (`rank_fusion`), so the same scale for every index of the chatbot."""
    return max((chunk.score for chunk in retrieval.chunks), default=0.0)


async def retrieve_answering(
    *,
    chatbot: ChatbotSettings,
    flows: list[Flow],
    flow: Flow,
    route: Route,
    question: str,
    order_tracking: bool = False,
) -> tuple[Retrieval, Route]:
    """The routed flow's passages, or another flow's when they answer clearly better (never
    the order flow of a chatbot that looks orders up: that one asks for an order number)."""
    others = [
        other
        for other in flows
        if other.is_enabled
        and other.index_name
        and other.index_name != flow.index_name
        and not (order_tracking and other.name == Flow.Name.APIFLOW)
    ]
    if not others:
        return await retrieve(chatbot=chatbot, flow=flow, question=question), route
    if not chatbot.uses_pinecone:
        weighed = _ChatbotWide.of(chatbot, [flow, *others], question)
        if weighed is not None:
            return await _by_sentences(weighed, chatbot, flow, others, route, question)
        # Not every index is held yet: all of them are searched (and so loaded) this once.
        first, *found = await asyncio.gather(
            *(retrieve(chatbot=chatbot, flow=one, question=question) for one in [flow, *others])
        )
    else:
        # Each index is a round trip: the others only when the routed flow's passages are weak.
        first = await retrieve(chatbot=chatbot, flow=flow, question=question)
        if first.error_code or strength(first) >= STRONG:
            return first, route
        found = await asyncio.gather(
            *(retrieve(chatbot=chatbot, flow=other, question=question) for other in others)
        )
    if first.error_code:
        return first, route
    return _best(route, flow, first, list(zip(others, found, strict=True)), lambda _, found: strength(found))


async def _by_sentences(
    weighed: _ChatbotWide,
    chatbot: ChatbotSettings,
    flow: Flow,
    others: list[Flow],
    route: Route,
    question: str,
) -> tuple[Retrieval, Route]:
    """With every index held locally: the sentences that best match the question, among all
    the chatbot's, say which other flows may answer better; only those are searched too."""
    own = weighed.best_in(flow.index_name)
    rivals = sorted(
        (other for other in others if weighed.best_in(other.index_name) > own * RIVAL_FRACTION),
        key=lambda other: -weighed.best_in(other.index_name),
    )[:MAX_RIVALS]
    if not rivals:
        return await retrieve(chatbot=chatbot, flow=flow, question=question), route
    first, *found = await asyncio.gather(
        *(retrieve(chatbot=chatbot, flow=one, question=question) for one in [flow, *rivals])
    )
    if first.error_code:
        return first, route
    return _best(route, flow, first, list(zip(rivals, found, strict=True)), weighed.weigh)


def _best(route, flow, first, candidates, weigh) -> tuple[Retrieval, Route]:
    own = weigh(flow, first)
    best_flow, best, best_strength = flow, first, own
    for other, retrieval in candidates:
        value = weigh(other, retrieval)
        # To take over, another flow must beat the routed one by more the surer the router was.
        margin = MARGIN + ROUTER_TRUST * route.confidence if best is first else 0.0
        if not retrieval.error_code and value > best_strength + margin:
            best_flow, best, best_strength = other, retrieval, value
    if best is first:
        return first, route
    reason = (
        f"{route.reason}; its passages were weak ({own:.2f}), "
        f"'{best_flow.title or best_flow.name}' answered ({best_strength:.2f})"
    )
    return best, Route(best_flow.name, reason[:250])


class _ChatbotWide:
    """The question's match with every sentence of the chatbot's local indexes: coverage among
    all the chatbot's sentences, plus that of the sentence's subject (`head_of`)."""

    def __init__(self, held: ChatbotPassages, question: str) -> None:
        self.held = held
        _, coverage = held.sentences.scores(question, by_form=True)
        _, head_coverage = held.heads.scores(question, by_form=True)
        self.sentence = coverage + HEAD_WEIGHT * head_coverage

    @classmethod
    def of(cls, chatbot: ChatbotSettings, flows: list[Flow], question: str) -> _ChatbotWide | None:
        """None when not every index is held locally."""
        layout = index_layout(chatbot, flows[0])
        held = chatbot_lexical_index(
            namespace=chatbot.chatbot_id,
            index_names=[flow.index_name for flow in flows],
            text_of=lambda metadata: layout.passage(metadata)[0],
        )
        return cls(held, question) if held is not None else None

    def best_in(self, index_name: str) -> float:
        span = self.held.spans.get(index_name)
        return float(self.sentence[span[0] : span[1]].max()) if span and span[1] > span[0] else 0.0

    def weigh(self, flow: Flow, retrieval: Retrieval) -> float:
        """A flow's retrieval by its best chunk: best sentence, the chunk's own coverage, cosine."""
        best = 0.0
        for chunk in retrieval.chunks:
            rows = self.held.rows.get((flow.index_name, str(chunk.metadata.get("id", ""))), [])
            share = float(self.sentence[rows].max()) if rows else 0.0
            whole = float(chunk.metadata.get(COVERAGE, 0.0))
            cosine = float(chunk.metadata.get(COSINE, chunk.score))
            best = max(best, share + CHUNK_WEIGHT * whole + COSINE_WEIGHT * cosine)
        return best
