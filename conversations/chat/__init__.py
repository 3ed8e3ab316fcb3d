"""The chat engine: one question from the socket (`consumer`) or REST (`api`) through `intake`,
`pipeline`, routing, retrieval and the provider request, back through `answer_buffer`, saved by
`writes`. docs/architecture.md, "The walk of one question", gives the reading order."""
