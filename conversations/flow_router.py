"""Picks the flow that answers a message: locally by similarity, or with the LLM.

The local router compares the question with each flow's description and example questions using
the local feature-hashing embedder, which needs no network and costs well under a millisecond.
The LLM router asks for JSON and falls back to the local router on any error or unknown flow.
"""

import functools
import logging
import threading
from dataclasses import dataclass

import numpy as np

from chatplatform.ai.base import ChatProvider, ProviderError
from chatplatform.ai.local import LocalEmbedder
from conversations.models import ChatbotSettings, Flow
from conversations.prompts import prompt_render

logger = logging.getLogger(__name__)

APIFLOW = Flow.Name.APIFLOW


@dataclass(frozen=True)
class FlowProfile:
    name: str
    title: str
    description: str
    # One row per description and example question, L2-normalised.
    vectors: np.ndarray


@dataclass(frozen=True)
class Route:
    flow: str
    reason: str


_embedder: LocalEmbedder | None = None
_profiles: dict[tuple[int, str], list[FlowProfile]] = {}
_lock = threading.Lock()


def _local_embedder() -> LocalEmbedder:
    global _embedder
    if _embedder is None:
        _embedder = LocalEmbedder()
    return _embedder


@functools.lru_cache(maxsize=2048)
def _question_vector(question: str, dimension: int) -> np.ndarray:
    """The hashed vector of a question; shoppers ask the same questions again and again."""
    vector = _local_embedder().embed_matrix([question])[0]
    vector.setflags(write=False)
    return vector


def flow_candidates(flows: list[Flow], *, order_tracking: bool = False) -> list[Flow]:
    """Enabled flows that can answer: those with a knowledge-base index, and order tracking
    when the chatbot has a commerce integration."""
    return [
        flow
        for flow in flows
        if flow.is_enabled and (flow.index_name or (order_tracking and flow.name == APIFLOW))
    ]


def flow_profiles(
    chatbot: ChatbotSettings, flows: list[Flow], *, order_tracking: bool = False
) -> list[FlowProfile]:
    """Embedded descriptions of the candidate flows, cached until a flow or the chatbot changes."""
    candidates = flow_candidates(flows, order_tracking=order_tracking)
    version = (
        "|".join(f"{flow.name}:{flow.updated_at.timestamp()}" for flow in candidates)
        + f"|{chatbot.updated_at.timestamp()}|{order_tracking}"
    )
    key = (chatbot.pk, version)
    cached = _profiles.get(key)
    if cached is not None:
        return cached
    embedder = _local_embedder()
    profiles = []
    for flow in candidates:
        texts = [f"{flow.title}. {flow.description}", *flow.example_questions]
        profiles.append(
            FlowProfile(flow.name, flow.title or flow.name, flow.description, embedder.embed_matrix(texts))
        )
    with _lock:
        for stale in [k for k in _profiles if k[0] == chatbot.pk]:
            del _profiles[stale]
        _profiles[key] = profiles
    return profiles


def route_local(question: str, profiles: list[FlowProfile]) -> Route:
    if not profiles:
        return Route(Flow.Name.DEFAULT, "no flow has a knowledge base; using the default flow")
    query = _question_vector(question, _local_embedder().dimension)
    scores = {profile.name: float(np.max(profile.vectors @ query)) for profile in profiles}
    best = max(scores, key=scores.__getitem__)
    if scores[best] <= 0.0:
        fallback = Flow.Name.DEFAULT if Flow.Name.DEFAULT in scores else best
        return Route(fallback, "nothing resembled the question; using the default flow")
    title = next(profile.title for profile in profiles if profile.name == best)
    return Route(best, f"closest to '{title}' (similarity {scores[best]:.2f})")


async def route_llm(
    *, provider: ChatProvider, question: str, profiles: list[FlowProfile], template: str
) -> Route:
    """Ask the LLM for the flow; any failure or unknown answer falls back to the local router."""
    if not profiles:
        return route_local(question, profiles)
    listing = "\n".join(f"- {p.name}: {p.title}. {p.description}" for p in profiles)
    try:
        result = await provider.complete_json(system=prompt_render(template, flows=listing), user=question)
    except ProviderError as exc:
        route = route_local(question, profiles)
        return Route(route.flow, f"LLM router failed ({exc.code}); {route.reason}")
    flow = result.get("flow") if isinstance(result, dict) else None
    if flow not in {profile.name for profile in profiles}:
        route = route_local(question, profiles)
        return Route(route.flow, f"LLM router chose an unknown flow; {route.reason}")
    reason = str(result.get("reason") or "chosen by the LLM router")[:250]
    return Route(flow, f"LLM: {reason}")
