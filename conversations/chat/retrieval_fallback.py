"""Routing that cannot strand a question: when the chosen flow's best passage is weak, the
chatbot's other indexes are searched too, and the flow whose index answers best takes over.

A router reads only the flows' descriptions; the passages themselves are the better judge. The
other indexes are asked only when needed (a weak best passage), all at once, so a well-routed
question costs nothing more, and a Pinecone chatbot pays one round trip more at most.
"""

from __future__ import annotations

import asyncio

from conversations.chat.flow_router import Route
from conversations.chat.rank_fusion import COSINE, COVERAGE
from conversations.chat.retrieval import Retrieval, retrieve
from conversations.knowledge.layouts import index_layout
from conversations.knowledge.lexical import chatbot_lexical_index
from conversations.models import ChatbotSettings, Flow

# A passage holding this much of the question's idf weight, or this similar to it, is strong
# enough: the routed flow's answer stands.
STRONG = 0.6
# Another flow takes over only when its best passage is stronger by this much.
MARGIN = 0.0
COSINE_WEIGHT = 0.05
HEAD_WEIGHT = 1.0
# The chunk's coverage as a whole: words strewn over the same document count a little.
CHUNK_WEIGHT = 0.5


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
    if chatbot.uses_pinecone or not others:
        # Each index is a round trip: the others only when the routed flow's passages are weak.
        first = await retrieve(chatbot=chatbot, flow=flow, question=question)
        own = strength(first)
        if first.error_code or own >= STRONG or not others:
            return first, route
        found = await asyncio.gather(
            *(retrieve(chatbot=chatbot, flow=other, question=question) for other in others)
        )
    else:
        # The local store searches an index in microseconds: every flow's passages are weighed.
        first, *found = await asyncio.gather(
            *(retrieve(chatbot=chatbot, flow=one, question=question) for one in [flow, *others])
        )
        if first.error_code:
            return first, route
        weigh = _chatbot_wide_strength(chatbot, [flow, *others], question)
        if weigh is not None:
            own = weigh(flow, first)
            best_flow, best, best_strength = flow, first, own
            for other, retrieval in zip(others, found, strict=True):
                value = weigh(other, retrieval)
                if not retrieval.error_code and value > best_strength + (MARGIN if best is first else 0.0):
                    best_flow, best, best_strength = other, retrieval, value
            return _chosen(route, flow, first, own, best_flow, best, best_strength)
        own = strength(first)
    best_flow, best, best_strength = flow, first, own
    for other, retrieval in zip(others, found, strict=True):
        if retrieval.error_code:
            continue
        value = strength(retrieval)
        if value > best_strength + (MARGIN if best is first else 0.0):
            best_flow, best, best_strength = other, retrieval, value
    return _chosen(route, flow, first, own, best_flow, best, best_strength)


def _chosen(route, flow, first, own, best_flow, best, best_strength) -> tuple[Retrieval, Route]:
    if best is first:
        return first, route
    reason = (
        f"{route.reason}; its passages were weak ({own:.2f}), "
        f"'{best_flow.title or best_flow.name}' answered ({best_strength:.2f})"
    )
    return best, Route(best_flow.name, reason[:250])


def _chatbot_wide_strength(chatbot: ChatbotSettings, flows: list[Flow], question: str):
    """A function weighing a flow's retrieval by its best sentence's coverage of the question
    among all the chatbot's sentences (and its subject's: `head_of`); None when not every index
    is held locally."""
    texts = {flow.index_name: index_layout(chatbot, flow) for flow in flows}
    held = chatbot_lexical_index(
        namespace=chatbot.chatbot_id,
        index_names=list(texts),
        text_of=lambda metadata: next(iter(texts.values())).passage(metadata)[0],
    )
    if held is None:
        return None
    _, coverage = held.sentences.scores(question)
    _, head_coverage = held.heads.scores(question)
    sentence = coverage + HEAD_WEIGHT * head_coverage

    def weigh(flow: Flow, retrieval: Retrieval) -> float:
        best = 0.0
        for chunk in retrieval.chunks:
            rows = held.rows.get((flow.index_name, str(chunk.metadata.get("id", ""))), [])
            share = float(sentence[rows].max()) if rows else 0.0
            whole = float(chunk.metadata.get(COVERAGE, 0.0))
            cosine = float(chunk.metadata.get(COSINE, chunk.score))
            best = max(best, share + CHUNK_WEIGHT * whole + COSINE_WEIGHT * cosine)
        return best

    return weigh
