"""Analysis, lessons and quizzes generated from a study session's documents.

The generation core (`text`, `terms`, `analysis`, `lesson`, `quiz`, `validation`) is pure code
over `drafts.SourceChunk`; `services` stores its results and `api` serves them.
"""
