"""Picks the flow that answers a message: locally by similarity, or with the LLM.

The local router compares the question with each flow's description and example questions using
the local feature-hashing embedder, which needs no network and costs well under a millisecond.
With the `openai` provider the same comparison uses the provider's embeddings (`route_embedded`):
the flows' texts are embedded once per version of the chatbot's settings, and the question's
embedding is the one retrieval asks for anyway (the embedder remembers it by text), so routing
costs no request of its own. The LLM router asks for JSON and falls back to the local router on
any error or unknown flow.
"""

import asyncio
import functools
import logging
import threading
import weakref
from dataclasses import dataclass

import numpy as np

from chatplatform.ai.base import ChatProvider, Embedder, ProviderError
from chatplatform.ai.local import LocalEmbedder
from chatplatform.personal_data import redact_personal
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
    # The texts of those rows, for embedding them with the provider's embedder.
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowProfiles:
    """The candidate flows' profiles, with all their rows in one matrix: routing is one matrix
    product and one reduction, whatever the number of flows and examples."""

    profiles: tuple[FlowProfile, ...]
    # Every profile's rows, one after the other; `starts[i]` is the first row of profile i.
    matrix: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, profiles: list[FlowProfile]) -> "FlowProfiles":
        rows = [profile.vectors for profile in profiles]
        matrix = np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
        starts = np.cumsum([0] + [len(vectors) for vectors in rows[:-1]]) if rows else np.zeros(0, int)
        matrix.setflags(write=False)
        return cls(tuple(profiles), matrix, starts)

    def __iter__(self):
        return iter(self.profiles)

    def __len__(self) -> int:
        return len(self.profiles)


@dataclass(frozen=True)
class Route:
    flow: str
    reason: str
    # How sure the router is (its similarity; 0 when unknown): retrieval weighs it before handing
    # the question to another flow.
    confidence: float = 0.0


_embedder: LocalEmbedder | None = None
_profiles: dict[tuple[int, str], FlowProfiles] = {}
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
) -> FlowProfiles:
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
            FlowProfile(
                flow.name,
                flow.title or flow.name,
                flow.description,
                embedder.embed_matrix(texts),
                tuple(texts),
            )
        )
    result = FlowProfiles.of(profiles)
    with _lock:
        for stale in [k for k in _profiles if k[0] == chatbot.pk]:
            del _profiles[stale]
        _profiles[key] = result
    return result


def route_local(question: str, profiles: FlowProfiles) -> Route:
    """The flow whose description or example question is most similar to the question (the
    first such flow on a tie)."""
    if not profiles:
        return Route(Flow.Name.DEFAULT, "no flow has a knowledge base; using the default flow")
    query = _question_vector(question, _local_embedder().dimension)
    return _closest(profiles, profiles.matrix, query, "")


def _closest(profiles: FlowProfiles, matrix: np.ndarray, query: np.ndarray, how: str) -> Route:
    # Each flow's score is its best row's.
    scores = np.maximum.reduceat(matrix @ query, profiles.starts)
    index = int(scores.argmax())
    best, score = profiles.profiles[index], float(scores[index])
    if score <= 0.0:
        names = {profile.name for profile in profiles}
        fallback = Flow.Name.DEFAULT if Flow.Name.DEFAULT in names else best.name
        return Route(fallback, "nothing resembled the question; using the default flow")
    return Route(best.name, f"closest to '{best.title}'{how} (similarity {score:.2f})", score)


# The provider-embedded rows of each FlowProfiles (one per version of a chatbot's settings), by
# the profiles' id; the weak reference tells a live entry from one whose profiles are gone.
_embedded: dict[tuple[int, str], tuple[weakref.ref, np.ndarray]] = {}
_MAX_EMBEDDED = 1024
_pending: dict[tuple[tuple[int, str], int], asyncio.Task] = {}


async def route_embedded(*, question: str, profiles: FlowProfiles, embedder: Embedder) -> Route:
    """`route_local` with the provider's embeddings instead of hashed words.

    The question goes out without the personal details the rules recognise, exactly as
    retrieval sends it, so its embedding is the one retrieval then finds remembered. Any
    provider error falls back to the local router."""
    if not profiles:
        return route_local(question, profiles)
    try:
        matrix = await _profile_matrix(profiles, embedder)
        query = np.asarray(await embedder.aembed_query(redact_personal(question)), dtype=np.float32)
    except ProviderError as exc:
        route = route_local(question, profiles)
        return Route(route.flow, f"embeddings failed ({exc.code}); {route.reason}", route.confidence)
    norm = float(np.linalg.norm(query))
    if matrix.shape[1] != query.shape[0] or norm == 0.0:
        return route_local(question, profiles)
    return _closest(profiles, matrix, query / norm, " by embeddings")


async def _profile_matrix(profiles: FlowProfiles, embedder: Embedder) -> np.ndarray:
    key = (
        id(profiles),
        f"{embedder.name}:{getattr(embedder, 'model', '')}:{getattr(embedder, 'dimension', '')}",
    )
    held = _embedded.get(key)
    if held is not None and held[0]() is profiles:
        return held[1]
    # The questions of a burst that find no matrix wait for one request, not one each.
    loop = asyncio.get_running_loop()
    pending = _pending.get((key, id(loop)))
    if pending is None or pending.done():
        pending = loop.create_task(_profile_rows(profiles, embedder))
        _pending[(key, id(loop))] = pending
    try:
        matrix = await asyncio.shield(pending)
    finally:
        if pending.done():
            _pending.pop((key, id(loop)), None)
    with _lock:
        for stale in [k for k, (ref, _) in _embedded.items() if ref() is None]:
            del _embedded[stale]
        if len(_embedded) >= _MAX_EMBEDDED:
            _embedded.clear()
        _embedded[key] = (weakref.ref(profiles), matrix)
    return matrix


async def _profile_rows(profiles: FlowProfiles, embedder: Embedder) -> np.ndarray:
    texts = [text for profile in profiles for text in profile.texts]
    rows = np.asarray(await embedder.aembed(texts), dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    matrix = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    matrix.setflags(write=False)
    return matrix


async def route_llm(*, provider: ChatProvider, question: str, profiles: FlowProfiles, template: str) -> Route:
    """Ask the LLM for the flow; any failure or unknown answer falls back to the local router.

    The LLM sees the question without the personal details the rules recognise; the local
    router, which sends nothing anywhere, reads it whole."""
    if not profiles:
        return route_local(question, profiles)
    listing = "\n".join(f"- {p.name}: {p.title}. {p.description}" for p in profiles)
    try:
        result = await provider.complete_json(
            system=prompt_render(template, flows=listing), user=redact_personal(question)
        )
    except ProviderError as exc:
        route = route_local(question, profiles)
        return Route(route.flow, f"LLM router failed ({exc.code}); {route.reason}")
    flow = result.get("flow") if isinstance(result, dict) else None
    if flow not in {profile.name for profile in profiles}:
        route = route_local(question, profiles)
        return Route(route.flow, f"LLM router chose an unknown flow; {route.reason}")
    reason = str(result.get("reason") or "chosen by the LLM router")[:250]
    return Route(flow, f"LLM: {reason}")
