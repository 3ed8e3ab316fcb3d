"""Passage vectors: the embedding queue and the search over a session's passages."""
