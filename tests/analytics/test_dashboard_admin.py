"""The admin's dashboards: reached from the index and each chatbot, charts drawn by the vendored
chart library (no CDN), and each conversation's latency waterfall."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone

from tests.analytics import dashboard_factories as make
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db


def test_the_admin_index_and_each_chatbot_lead_to_its_dashboard(staff_client):
    bot = ChatbotFactory(chatbot_id="nordvin")

    index = staff_client.get("/admin/").content.decode()
    listing = staff_client.get("/admin/analytics/analyticsdashboard/").content.decode()
    settings_page = staff_client.get(
        f"/admin/conversations/chatbotsettings/{bot.pk}/change/"
    ).content.decode()
    changelist = staff_client.get("/admin/conversations/chatbotsettings/").content.decode()

    assert "/admin/analytics/analyticsdashboard/" in index
    for page in (listing, settings_page, changelist):
        assert "/admin/analytics/analyticsdashboard/nordvin/" in page


def test_the_dashboard_embeds_its_figures_and_charts_without_a_cdn(staff_client):
    bot = ChatbotFactory(chatbot_id="nordvin")
    convo = make.conversation(bot, timezone.now() - timedelta(minutes=5), topic="Levering", score=8)
    make.answer(convo, timezone.now() - timedelta(minutes=4), flow="flow2", ttft_ms=420.0)

    response = staff_client.get("/admin/analytics/analyticsdashboard/nordvin/", {"range": "7d"})

    assert response.status_code == 200
    html = response.content.decode()
    figures = json.loads(re.search(r'id="analytics-figures"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert figures["answers"]["value"] == 1
    assert figures["flows"][0]["flow"] == "flow2"
    assert html.count("<canvas") >= 8
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert all(src.startswith("/static/") for src in scripts)
    assert any(src.endswith("analytics/vendor/chart.umd.min.js") for src in scripts)
    assert "Export conversations (CSV)" in html


def test_the_chart_library_ships_with_its_licence():
    library = Path(finders.find("analytics/vendor/chart.umd.min.js"))
    licence = Path(finders.find("analytics/vendor/chart.js.LICENSE.md"))

    assert library.read_text().startswith("/*!\n * Chart.js v4.")
    assert "MIT License" in licence.read_text()


def test_a_conversation_shows_its_answers_latency_waterfall(staff_client):
    bot = ChatbotFactory()
    convo = make.conversation(bot, timezone.now())
    make.answer(
        convo,
        timezone.now(),
        route_ms=3.0,
        retrieve_ms=85.0,
        prompt_ms=4.0,
        provider_ttft_ms=380.0,
        stream_ms=900.0,
    )
    make.answer(convo, timezone.now(), flow="apiflow", order_lookup_ms=240.0, provider_ttft_ms=300.0)

    html = staff_client.get(f"/admin/conversations/conversation/{convo.pk}/change/").content.decode()

    assert 'class="latency-waterfall"' in html
    phases = re.findall(r'data-phase="([^"]+)" data-ms="([^"]+)"', html)
    assert ("retrieval", "85.0") in phases
    assert ("order lookup", "240.0") in phases
    assert [label for label, _ in phases[:5]] == [
        "routing",
        "retrieval",
        "prompt",
        "provider first token",
        "streaming",
    ]


def test_only_staff_see_the_dashboards(client, django_user_model):
    ChatbotFactory(chatbot_id="nordvin")
    client.force_login(django_user_model.objects.create_user(username="shopper"))

    response = client.get("/admin/analytics/analyticsdashboard/nordvin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
