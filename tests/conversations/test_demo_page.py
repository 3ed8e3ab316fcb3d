"""The demo shop page, `/chat/<chatbot_id>/`, that embeds the chat widget."""

import pytest
from django.contrib.staticfiles import finders

from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db


def test_it_renders_the_chatbot_name_and_the_widget_script_tag(client):
    ChatbotFactory(chatbot_id="nordvin", name="Nordvin")

    response = client.get("/chat/nordvin/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Nordvin</h1>" in html
    assert '<script src="/static/conversations/widget.js" data-chatbot="nordvin"' in html
    assert " async></script>" in html


def test_it_shows_the_embed_snippet_with_the_platforms_absolute_url(client):
    ChatbotFactory(chatbot_id="nordvin", name="Nordvin")

    html = client.get("/chat/nordvin/").content.decode()

    assert (
        '&lt;script src="http://testserver/static/conversations/widget.js" data-chatbot="nordvin" async&gt;'
        in html
    )


def test_it_escapes_the_chatbot_name(client):
    ChatbotFactory(chatbot_id="shop", name="<b>Shop</b>")

    html = client.get("/chat/shop/").content.decode()

    assert "<b>Shop</b>" not in html
    assert "&lt;b&gt;Shop&lt;/b&gt;" in html


def test_it_answers_404_for_an_unknown_chatbot(client):
    response = client.get("/chat/no-such-bot/")

    assert response.status_code == 404
    assert "widget.js" not in response.content.decode()


def test_it_answers_404_for_an_inactive_chatbot(client):
    ChatbotFactory(chatbot_id="closed", is_active=False)

    assert client.get("/chat/closed/").status_code == 404


def test_the_widget_script_is_a_static_file():
    assert finders.find("conversations/widget.js")
