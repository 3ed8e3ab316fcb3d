from tests.fakes.pinecone_server import pinecone_server  # noqa: F401  (fixture)
