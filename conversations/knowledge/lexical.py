"""BM25 statistics of the passages of one local index, beside its vectors (hybrid retrieval).

Feature-hashed vectors find passages that share character n-grams with the question; BM25 over
Snowball stems (`chatplatform.ai.stems`) finds those that share its rarer words in any
inflection. The statistics (postings, lengths, idf) are worked out once per loaded matrix of the
local vector store, the same version the vector search just used, and kept with it: a question
costs a few dictionary reads and one small NumPy sum per term, no rebuild.

Pinecone indexes keep their passages remotely, so they have vectors only (the `openai`
provider's embeddings carry paraphrase much better than hashed words do).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from chatplatform.ai.bm25 import LexicalIndex, head_of
from chatplatform.ai.text import passages

_MAX_CACHED = 64


class _Cache:
    """Lexical indexes by (index, namespace), each valid for the matrix object it was built from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[Any, LexicalIndex]] = OrderedDict()

    def get(self, key: tuple[str, str], matrix: Any) -> LexicalIndex | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] is not matrix:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple[str, str], matrix: Any, index: LexicalIndex) -> None:
        with self._lock:
            self._entries[key] = (matrix, index)
            self._entries.move_to_end(key)
            while len(self._entries) > _MAX_CACHED:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _Cache()


def lexical_cache_clear() -> None:
    _cache.clear()
    with _union_lock:
        _unions.clear()
        _keep.clear()


def local_lexical_index(*, index_name: str, namespace: str, text_of: Any) -> tuple[Any, LexicalIndex] | None:
    """The local store's matrix that the last query of (index, namespace) used, with its BM25
    statistics (built now if this matrix is new); None when no matrix is held.

    `text_of(metadata)` reads a record's passage as the flow's layout says."""
    from chatplatform.vectorstores import local

    key = (index_name, namespace)
    # The matrix the store just searched: held, and confirmed against the shared version.
    matrix = local._matrices.recently_confirmed(key, float("inf"))
    if matrix is None or not matrix.ids:
        return None
    index = _cache.get(key, matrix)
    if index is None:
        index = LexicalIndex([text_of(metadata) for metadata in matrix.metadata])
        _cache.put(key, matrix, index)
    return matrix, index


_union_lock = threading.Lock()
_unions: OrderedDict[tuple[str, tuple[str, ...]], tuple[tuple[int, ...], Any]] = OrderedDict()


@dataclass(frozen=True)
class ChatbotPassages:
    """The sentences and list items of all of a chatbot's local indexes, for weighing a flow's
    retrieved chunks by their best-matching sentence."""

    sentences: LexicalIndex
    # The subject of each sentence that has one ("Roast lamb, beef steaks: ...").
    heads: LexicalIndex
    # (index, vector id) -> the rows of its sentences.
    rows: dict[tuple[str, str], list[int]]
    # index -> (first row, end row) of its sentences.
    spans: dict[str, tuple[int, int]]


def chatbot_lexical_index(*, namespace: str, index_names: list[str], text_of: Any) -> ChatbotPassages | None:
    """BM25 statistics over the sentences of all the given local indexes of one chatbot
    together; None unless every index's matrix is held.

    Coverage worked out here weighs a word by how rare it is in all the chatbot's passages, so
    it compares passages of different indexes fairly (in a two-document index about tastings,
    "tasting" is everywhere, yet it is what tells that index from the others), and by sentence,
    so words found together count more than words strewn over a document."""
    from chatplatform.vectorstores import local

    names = tuple(sorted(set(index_names)))
    matrices = [local._matrices.recently_confirmed((name, namespace), float("inf")) for name in names]
    if any(matrix is None for matrix in matrices):
        return None
    key = (namespace, names)
    identity = tuple(id(matrix) for matrix in matrices)
    with _union_lock:
        held = _unions.get(key)
        if held is not None and held[0] == identity:
            _unions.move_to_end(key)
            return held[1]
    rows: dict[tuple[str, str], list[int]] = {}
    spans: dict[str, tuple[int, int]] = {}
    texts: list[str] = []
    for name, matrix in zip(names, matrices, strict=True):
        start = len(texts)
        for vector_id, metadata in zip(matrix.ids, matrix.metadata, strict=True):
            units = passages(text_of(metadata))
            rows[(name, vector_id)] = list(range(len(texts), len(texts) + len(units)))
            texts.extend(units)
        spans[name] = (start, len(texts))
    result = ChatbotPassages(
        LexicalIndex(texts), LexicalIndex([head_of(text) for text in texts]), rows, spans
    )
    with _union_lock:
        # The matrices are held too, so that their ids cannot be reused while this entry lives.
        _unions[key] = (identity, result)
        _keep[key] = matrices
        while len(_unions) > _MAX_CACHED:
            stale, _ = _unions.popitem(last=False)
            _keep.pop(stale, None)
    return result


_keep: dict[tuple[str, tuple[str, ...]], list[Any]] = {}
