"""The passages of a session nearest to a text, for grounding analyses, lessons and quizzes.

Vectors live on the chunks themselves (float32 bytes), so a session's search is one query and a
matrix product: sessions hold hundreds of passages, not millions, and a learner's passages never
share an index with another learner's. Passages not embedded yet (or embedded by another model
than the current one) are ranked by word overlap below the embedded ones, so the tutor works
from the moment a document is ready.
"""

from __future__ import annotations

import re

import numpy as np

from chatplatform import telemetry
from chatplatform.ai import get_embedder
from chatplatform.ai.base import Embedder, ProviderError
from chatplatform.documents.pipeline import embedding_model_name
from chatplatform.personal_data import redact_personal
from tutor.embeddings.queue import vector_from_bytes
from tutor.models import Chunk, StudySession
from tutor.selectors import session_chunks

FEATURE = "tutor_search"
_WORD = re.compile(r"\w+")


def chunks_search(
    session: StudySession, text: str, k: int = 5, *, embedder: Embedder | None = None
) -> list[Chunk]:
    """The `k` passages of the session's ready documents most similar to `text`, best first;
    each carries its similarity as `.score`."""
    chunks = list(session_chunks(session))
    if not chunks or k <= 0:
        return []
    embedder = embedder or get_embedder()
    model = embedding_model_name(embedder)
    embedded = [
        c
        for c in chunks
        if c.embedding_status == Chunk.EmbeddingStatus.COMPLETED and c.embedding_model == model
    ]
    # (1, cosine) for embedded passages, (0, word overlap) for the others: embedded rank first.
    scores: dict[int, tuple[int, float]] = {}
    if embedded:
        try:
            with telemetry.context(tenant_type="learner", tenant_id=str(session.learner_id), feature=FEATURE):
                query = np.asarray(embedder.embed([redact_personal(text)])[0], dtype=np.float32)
        except ProviderError:
            query = None  # fall back to word overlap for every passage
        if query is not None:
            matrix = np.vstack([vector_from_bytes(c.embedding) for c in embedded])
            norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0)
            similarities = matrix @ query / np.where(norms == 0, 1.0, norms)
            scores.update({c.pk: (1, float(s)) for c, s in zip(embedded, similarities, strict=True)})
    words = set(_WORD.findall(text.lower()))
    for chunk in chunks:
        if chunk.pk not in scores:
            overlap = words & set(_WORD.findall(chunk.text.lower()))
            scores[chunk.pk] = (0, len(overlap) / (len(words) or 1))
    ranked = sorted(chunks, key=lambda c: (-scores[c.pk][0], -scores[c.pk][1], c.document_id, c.position))[:k]
    for chunk in ranked:
        chunk.score = scores[chunk.pk][1]
    return ranked
