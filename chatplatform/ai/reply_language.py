"""The language to reply in: the shopper's, when the question's own words show it.

Fixed replies ("not found", "knowledge base unavailable", the order flow's questions) follow the
question, so an English question to a Danish shop gets English. Detection is the local rules of
`text.guess_language` (stopwords and letters such as æ, ø, ü): offline, microseconds, and
silent on a bare order number or product name, where the conversation's or the chatbot's
language stands.
"""

from chatplatform.ai.text import guess_language, normalise_language


def reply_language(text: str, fallback: str) -> str:
    """The language of `text` when its words tell, else `fallback` (normalised: `da`, `en`, ...)."""
    guessed = guess_language(text)
    return guessed if guessed else normalise_language(fallback)


def conversation_language(messages: list[str], fallback: str) -> str:
    """The language of the newest of the shopper's `messages` whose words tell, else `fallback`."""
    for text in reversed(messages):
        guessed = guess_language(text)
        if guessed:
            return guessed
    return normalise_language(fallback)
