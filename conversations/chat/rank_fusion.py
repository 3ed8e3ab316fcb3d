"""Hybrid retrieval: the vector store's nearest passages and BM25's best, merged by reciprocal
rank fusion (each list gives a passage 1 / (60 + rank); the sums order the result).

Rank fusion needs no common scale between cosines and BM25 scores, so neither can drown the
other. Each passage keeps a score the chatbot's `retrieval_min_score` can be held against: the
better of its cosine and its lexical coverage (the share of the question's idf weight that the
passage holds), so a passage with the question's rare words survives a weak hashed cosine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chatplatform.vectorstores.base import VectorMatch, VectorStore
from conversations.knowledge.lexical import local_lexical_index

RRF_K = 60
# Candidates drawn from each list before fusing, per passage finally kept.
_WIDEN = 3
_MIN_CANDIDATES = 12
# Where a passage's lexical coverage and its cosine are kept in its metadata.
COVERAGE = "_coverage"
COSINE = "_cosine"


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> list[str]:
    """Ids ordered by their summed reciprocal ranks; ties keep first appearance."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: -scores[item])


async def hybrid_query(
    *,
    store: VectorStore,
    vector: Sequence[float],
    question: str,
    top_k: int,
    text_of: Callable[[dict[str, Any]], str],
) -> list[VectorMatch]:
    """The `top_k` passages of the store for the question, vectors and BM25 fused where the
    passages are at hand (the local store), the vectors alone elsewhere."""
    from chatplatform.vectorstores.local import LocalVectorStore

    if not isinstance(store, LocalVectorStore):
        return await store.aquery(vector, top_k=top_k)
    wide = max(top_k * _WIDEN, _MIN_CANDIDATES)
    nearest = await store.aquery(vector, top_k=wide)
    held = local_lexical_index(index_name=store.index_name, namespace=store.namespace, text_of=text_of)
    if held is None:
        return nearest[:top_k]
    matrix, lexical = held
    hits = lexical.search(question, wide)
    if not hits:
        return nearest[:top_k]
    by_id = {match.id: match for match in nearest}
    coverage = {matrix.ids[hit.row]: hit.coverage for hit in hits}
    rows = {matrix.ids[hit.row]: hit.row for hit in hits}
    fused = reciprocal_rank_fusion([[m.id for m in nearest], [matrix.ids[hit.row] for hit in hits]])
    query = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(query))
    result = []
    for vector_id in fused[:top_k]:
        match = by_id.get(vector_id)
        if match is None:
            row = rows[vector_id]
            cosine = float(matrix.vectors[row] @ query) / norm if norm else 0.0
            match = VectorMatch(id=vector_id, score=cosine, metadata=dict(matrix.metadata[row]))
        share = coverage.get(vector_id, 0.0)
        result.append(
            VectorMatch(
                id=match.id,
                score=max(match.score, share),
                metadata={**match.metadata, COVERAGE: share, COSINE: match.score},
            )
        )
    return result
