from tests.fakes.openai_server import openai_server  # noqa: F401  (fixture)
from tests.fakes.pinecone_server import pinecone_server  # noqa: F401  (fixture)
