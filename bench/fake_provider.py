"""The benchmark's OpenAI-compatible server: tests.fakes.openai_server with two differences.

`python -m tests.fakes.openai_server` gives embeddings the chat reply's first-token delay, so every
question the platform embeds for retrieval would wait 200 ms before the chat request even starts.
Here chat completions stream the benchmark answer and embeddings are answered after
`--embedding-ms` (0 by default), so that the platform's added time-to-first-token is its own work;
bench/README.md says what a real embeddings round trip adds on top.

And its embeddings are the platform's own feature hashing (`LocalEmbedder`) at the requested
dimension instead of random vectors, so that similar texts get similar vectors: the demo
knowledge base, embedded through this server, then holds chunks that match the benchmark's
question, and every answer is grounded in retrieved context as it would be in production.

    python -m bench.fake_provider --port 9100 --first-token-ms 200 --interval-ms 20 --tokens 100
"""

from __future__ import annotations

import argparse

import numpy as np

from chatplatform.ai.local import LocalEmbedder
from tests.fakes.openai_server import FakeOpenAIServer, Reply, benchmark_reply

# Chat replies queued up front: far more requests than any run makes (each entry is a reference
# to the same Reply, 8 bytes).
_SCRIPTED_CHAT_REPLIES = 1_000_000


_embedders: dict[int, LocalEmbedder] = {}


def feature_hashing_embedding(text: str, dimension: int) -> np.ndarray:
    embedder = _embedders.get(dimension)
    if embedder is None:
        embedder = _embedders[dimension] = LocalEmbedder(dimension)
    return embedder.embed_matrix([text])[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server for bench/stream.py.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--first-token-ms", type=float, default=200.0)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--embedding-ms", type=float, default=0.0)
    args = parser.parse_args(argv)

    server = FakeOpenAIServer(
        api_key=None,
        host=args.host,
        port=args.port,
        default_reply=Reply(first_token_delay=args.embedding_ms / 1000),
        record=False,  # a long benchmark must not grow memory
    )
    # Scripted replies go to chat completions only; embeddings get the default reply.
    server.script_chat_only = True
    server.embedding_function = feature_hashing_embedding
    server.script(
        benchmark_reply(args.tokens, args.first_token_ms, args.interval_ms), times=_SCRIPTED_CHAT_REPLIES
    )
    server.serve_until_interrupted()


if __name__ == "__main__":
    main()
