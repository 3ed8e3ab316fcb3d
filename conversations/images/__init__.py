"""Images shoppers send: validated by content, re-encoded without metadata, stored, described.

`validation` decides what a file is and re-encodes it, `services` holds the write paths (upload,
describe, delete, retention), `selectors` the reads the chat pipeline uses, `messages` the
refusals in the chatbot's language; `api`, `admin` and `tasks` are thin adapters around them.
"""
