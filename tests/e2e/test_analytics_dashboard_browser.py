"""The admin's analytics dashboard in a real browser: its charts render with the data the test made.

Debian's chromium (found as in test_widget_browser.py) loads the page from pytest-django's live
server (a thread of this process on the test database, static files served from the apps): the
page is plain HTTP and admin, so a Daphne process and its migrations would add nothing but time.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from analytics.rollups import analytics_rollup
from tests.analytics import dashboard_factories as make
from tests.conversations.factories import ChatbotFactory
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, chromium_required

try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover  (requirements.txt pins it)
    sync_playwright = None

pytestmark = pytest.mark.browser

# A fixed place, so that a developer can look at the last run.
SCREENSHOT = Path("/tmp/analytics-dashboard.png")  # noqa: S108


@pytest.fixture
def week_of_answers(transactional_db) -> None:
    """Made before the browser starts: Playwright's sync API runs an event loop in this thread,
    where Django refuses ORM calls."""
    bot = ChatbotFactory(chatbot_id="nordvin", name="Nordvin")
    # Day -3: two conversations, three answers; day -1: one conversation, one failed answer.
    first = make.conversation(bot, _noon(3), topic="Levering", score=9, resolution="confirmed")
    make.answer(first, _noon(3), flow="default", ttft_ms=400.0)
    make.answer(first, _noon(3) + timedelta(minutes=1), flow="flow2", ttft_ms=800.0)
    second = make.conversation(bot, _noon(3) + timedelta(hours=1), topic="Returnering", score=4)
    make.answer(second, _noon(3) + timedelta(hours=1), flow="flow2", ttft_ms=600.0)
    third = make.conversation(bot, _noon(1), topic="Levering", score=7, resolution="assumed")
    make.answer(third, _noon(1), flow="default", status="failed", ttft_ms=None)
    analytics_rollup(day_from=_noon(6).date(), day_to=_noon(1).date())


@pytest.fixture
def page(week_of_answers, live_server, django_user_model, client) -> Iterator["Page"]:
    chromium_required()
    client.force_login(django_user_model.objects.create_superuser(username="analyst"))
    cookie = client.cookies["sessionid"].value
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1300, "height": 1000})
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
        # Nothing may come from outside the live server (no CDN).
        context.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
            ),
        )
        browser_page = context.new_page()
        browser_page.set_default_timeout(15_000)
        browser_page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        browser_page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        browser_page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
        try:
            yield browser_page
        finally:
            context.close()
            browser.close()
    assert problems == []


def _noon(days_ago: int) -> datetime:
    return datetime.combine(timezone.now().date() - timedelta(days=days_ago), time(12), tzinfo=UTC)


def test_the_dashboard_charts_the_data_it_was_given(page, live_server):
    page.goto(f"{live_server.url}/admin/analytics/analyticsdashboard/nordvin/?range=7d")
    page.wait_for_function("() => document.documentElement.dataset.analyticsCharts === 'ready'")
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    def chart(name: str) -> dict:
        return page.evaluate(
            f"""() => {{ const c = window.__analyticsCharts['{name}'];
            return {{labels: c.data.labels, data: c.data.datasets.map(d => d.data)}}; }}"""
        )

    days = [(timezone.now().date() - timedelta(days=n)).isoformat() for n in range(6, -1, -1)]
    activity = chart("chart-activity")
    assert activity["labels"] == days
    assert activity["data"][0] == [0, 0, 0, 2, 0, 1, 0]  # conversations
    assert activity["data"][1] == [0, 0, 0, 3, 0, 1, 0]  # answers
    assert chart("chart-errors")["data"][0] == [0, 0, 0, 0, 0, 1, 0]
    ttft = chart("chart-ttft")["data"]
    assert ttft[0][3] == pytest.approx(600.0, rel=0.01)  # p50 of 400, 600, 800
    assert ttft[1][3] == pytest.approx(800.0, rel=0.01)
    flows = chart("chart-flows")
    assert flows["labels"] == ["default", "flow2"]
    assert flows["data"][0] == [2, 2]
    topics = chart("chart-topics")
    assert dict(zip(topics["labels"], topics["data"][0], strict=True)) == {"Levering": 2, "Returnering": 1}
    assert chart("chart-scores")["data"][0] == [0, 0, 0, 1, 0, 0, 1, 0, 1, 0]
    assert chart("chart-resolution")["data"][0][:2] == [1, 1]
    # The canvases were drawn on, not merely created.
    painted = page.evaluate(
        """() => [...document.querySelectorAll('canvas')].map(c => {
            const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let inked = 0;
            for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) inked++; }
            return inked; })"""
    )
    assert len(painted) == 10
    assert all(count > 100 for count in painted)
    assert page.locator("#tile-answers").inner_text() == "4"
    assert page.locator("#flows-table tbody tr").count() == 2
