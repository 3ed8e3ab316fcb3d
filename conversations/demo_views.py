"""The demo shop page of a chatbot, `/chat/<chatbot_id>/`: the widget as a shop embeds it."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from chatplatform.errors import ApplicationError
from conversations.chat.selectors import chatbot_for_chat


def chat_demo(request: HttpRequest, chatbot_id: str) -> HttpResponse:
    try:
        chatbot = chatbot_for_chat(chatbot_id=chatbot_id)
    except ApplicationError as exc:
        raise Http404(exc.message) from None
    return render(request, "conversations/demo.html", {"chatbot": chatbot})
