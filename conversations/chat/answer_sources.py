"""Fixed-text answers, streamed word by word like the provider's: the knowledge base could not
be consulted, or an order reply (`order_answer`). They are stream sources beside the provider's,
so the pipeline treats every answer the same way."""

from chatplatform.ai.base import ChatStream

KB_UNAVAILABLE = {
    "da": "Beklager, jeg kan ikke slå op i vores vidensbase lige nu. Prøv igen om lidt, eller "
    "kontakt vores kundeservice.",
    "en": "Sorry, I cannot consult our knowledge base right now. Please try again in a moment or "
    "contact our customer service.",
    "sv": "Tyvärr kan jag inte slå upp i vår kunskapsbas just nu. Försök igen om en stund eller "
    "kontakta vår kundtjänst.",
    "de": "Leider kann ich unsere Wissensdatenbank gerade nicht abfragen. Bitte versuchen Sie es "
    "gleich noch einmal oder wenden Sie sich an unseren Kundenservice.",
}


def text_stream(text: str) -> ChatStream:
    async def words():
        pieces = text.split(" ")
        for word in pieces[:-1]:
            yield word + " "
        yield pieces[-1]

    return ChatStream(words())


def kb_unavailable_stream(language: str) -> ChatStream:
    return text_stream(KB_UNAVAILABLE.get(language, KB_UNAVAILABLE["en"]))
