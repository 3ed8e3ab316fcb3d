import socket
from collections.abc import Callable

import pytest

from chatplatform.vectorstores.pinecone import PineconeVectorStore
from tests.fakes.pinecone_server import FakeIndex, FakePineconeServer, pinecone_server  # noqa: F401


@pytest.fixture
def make_store(pinecone_server: FakePineconeServer) -> Callable[..., PineconeVectorStore]:  # noqa: F811
    """Build a store against the fake server; keyword arguments override the defaults."""

    def make(**overrides: object) -> PineconeVectorStore:
        options: dict = {
            "api_key": pinecone_server.api_key,
            "index_name": "docs",
            "namespace": "chatbot-1",
            "controller_host": pinecone_server.controller_host,
            "timeout": 5.0,
        }
        options.update(overrides)
        return PineconeVectorStore(**options)

    return make


@pytest.fixture
def docs_index(pinecone_server: FakePineconeServer) -> FakeIndex:  # noqa: F811
    """The index "docs" of 4-dimensional cosine vectors that `make_store` uses by default."""
    return pinecone_server.create_index("docs", 4)


@pytest.fixture
def unreachable_host() -> str:
    """An origin on 127.0.0.1 where nothing listens, so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
