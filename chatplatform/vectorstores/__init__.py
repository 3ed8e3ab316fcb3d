"""Vector stores: `base` holds the interface, `pinecone` and `local` implement it."""
