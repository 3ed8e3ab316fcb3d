"""The embeddable chat widget in a real browser against a real server process.

Daphne serves the platform with `DJANGO_DEBUG=False` (static files through whitenoise) on the
database and Redis of the environment, or on SQLite and in-memory layers when they are unset. The
answers come from the tests' OpenAI-compatible server, paced slowly enough to stop and to drop the
connection mid-answer; its embeddings are the local provider's feature hashing, so that the demo
knowledge base is retrieved by meaning as with a real embedding model.
"""

import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from chatplatform.ai.local import LocalEmbedder
from tests.e2e.browser import (
    BIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    chromium_required,
    daphne_serving,
    server_database,
)
from tests.fakes import openai_server as fake_openai_module
from tests.fakes.openai_server import FakeOpenAIServer, Reply

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover  (requirements.txt pins it)
    sync_playwright = None

pytestmark = pytest.mark.browser

# A fixed place, so that a developer can look at the last run.
SCREENSHOT = Path("/tmp/widget.png")  # noqa: S108

BORNHOLM_QUESTION = "Hvad koster fragt til Bornholm?"
BORNHOLM_ANSWER = (
    "Vi leverer også til Bornholm til samme pris som i resten af Danmark: 49 kr. til pakkeshop med GLS "
    "eller 79 kr. til døren med PostNord, og fragten er gratis ved køb over 900 kr."
)


def words(count: int, prefix: str) -> list[str]:
    return [f"{prefix}{n} " for n in range(1, count + 1)]


def answer_state(page: "Page", index: int) -> dict:
    return page.evaluate(f"window.__chatWidget.state().answers[{index}]")


def wait_for_tokens(page: "Page", index: int, count: int) -> None:
    page.wait_for_function(
        f"() => {{ const a = window.__chatWidget.state().answers[{index}]; "
        f"return a && a.seqs.length >= {count}; }}"
    )


def wait_for_answer(page: "Page", index: int, timeout_ms: int = 15_000) -> dict:
    page.wait_for_function(
        f"() => {{ const a = window.__chatWidget.state().answers[{index}]; return a && a.done; }}",
        timeout=timeout_ms,
    )
    return answer_state(page, index)


def chat_requests(fake: FakeOpenAIServer, question: str) -> list:
    return [
        request
        for request in fake.requests
        if request.path.startswith("/v1/chat/completions")
        and request.body["messages"][-1]["content"] == question
    ]


def ask(page: "Page", text: str) -> None:
    box = page.get_by_label("Dit spørgsmål")
    box.fill(text)
    box.press("Enter")


# --- the server ------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _chromium() -> None:
    chromium_required()


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAIServer]:
    # The fake's own embeddings are random per text, so nothing would pass the chatbot's score
    # threshold; feature hashing makes "fragt til Bornholm" find the shipping page.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            fake_openai_module,
            "fake_embedding",
            lambda text, dimension: LocalEmbedder(dimension).embed_matrix([text])[0],
        )
        server = FakeOpenAIServer().start()
        server.script_chat_only = True
        try:
            yield server
        finally:
            server.stop()


def _run(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen, what: str) -> None:
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, f"{what} failed:\n{output}"


@pytest.fixture(scope="module")
def platform_url(tmp_path_factory, fake_openai) -> Iterator[str]:
    """Daphne serving the platform with the demo chatbot `nordvin` loaded; yields its base URL."""
    tmp = tmp_path_factory.mktemp("widget")
    with server_database(tmp) as database_url:
        env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
        env.update(
            PATH=f"{BIN}:{env.get('PATH', '')}",
            DJANGO_SETTINGS_MODULE="chatplatform.settings",
            VAR_DIR=str(tmp / "var"),
            DATABASE_URL=database_url,
            DJANGO_DEBUG="False",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
            DJANGO_SECURE_SSL_REDIRECT="False",
            FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
            AI_PROVIDER="openai",
            OPENAI_API_KEY=fake_openai.api_key,
            OPENAI_BASE_URL=fake_openai.base_url,
            # Background jobs queue into the temporary folder; no worker runs in this test.
            CELERY_BROKER_URL="filesystem://",
            LOG_LEVEL="WARNING",
        )
        if os.environ.get("REDIS_URL"):
            env["REDIS_URL"] = os.environ["REDIS_URL"]
        collectstatic = _run(["collectstatic", "--noinput"], env)
        _finish(_run(["migrate", "--noinput"], env), "migrate")
        # Ingests the demo knowledge base, embedded by the configured (fake OpenAI) provider.
        _finish(_run(["load_demo_data"], env), "load_demo_data")
        _finish(collectstatic, "collectstatic")

        with daphne_serving(env, tmp / "daphne.log") as base_url:
            yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator["Browser"]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, platform_url) -> Iterator["Page"]:
    """The demo shop page with the chat panel open and connected; fails on any script error."""
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.goto(f"{platform_url}/chat/nordvin/")
    page.get_by_role("button", name="Åbn chat").click()
    page.wait_for_function("() => window.__chatWidget.state().connected")
    yield page
    context.close()
    assert problems == []


# --- the tests -------------------------------------------------------------------------------


def test_the_demo_page_embeds_the_widget_from_whitenoise(platform_url):
    with urllib.request.urlopen(f"{platform_url}/chat/nordvin/", timeout=5) as response:
        html = response.read().decode()
    assert "Nordvin" in html
    script = html.split('<script src="', 1)[1].split('"', 1)[0]
    # DEBUG is off: the page names the hashed file of the manifest storage.
    assert script.startswith("/static/conversations/widget.")
    assert script != "/static/conversations/widget.js"
    for path in (script, "/static/conversations/widget.js"):
        with urllib.request.urlopen(f"{platform_url}{path}", timeout=5) as response:
            assert "javascript" in response.headers["Content-Type"]
            assert b"__chatWidget" in response.read()
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{platform_url}/chat/no-such-shop/", timeout=5)
    assert error.value.code == 404


def test_it_streams_an_answer_with_sources_and_stops_the_next_one(page, fake_openai):
    fake_openai.script(BORNHOLM_ANSWER, interval=0.02)

    ask(page, BORNHOLM_QUESTION)
    first = wait_for_answer(page, 0)

    bubble = page.locator("chat-widget .bot").first
    assert "Bornholm" in bubble.locator(".text").inner_text()
    assert first["status"] == "completed"
    assert first["streamed"] == first["final"] == BORNHOLM_ANSWER
    assert first["seqs"] == list(range(1, len(first["seqs"]) + 1))
    assert bubble.locator(".sources li").count() >= 1
    titles = [source["title"] for source in first["sources"]]
    assert any("fragt" in title.lower() or "shipping" in title.lower() for title in titles), titles
    # The model was given the knowledge base's text about Bornholm.
    [request] = chat_requests(fake_openai, BORNHOLM_QUESTION)
    assert "Bornholm" in request.body["messages"][0]["content"]
    assert page.evaluate("localStorage.getItem('chatWidget:nordvin:conversation')")
    # The shop's loud button and input styles stay outside the shadow root.
    font = page.locator("chat-widget input").evaluate("input => getComputedStyle(input).fontFamily")
    assert "Comic" not in font
    # Thumbs under the answer: the server acknowledges each rating, the second replaces the first.
    bubble.get_by_role("button", name="Svaret hjalp", exact=True).click()
    page.wait_for_function("() => window.__chatWidget.state().answers[0].rating === 'up'")
    bubble.get_by_role("button", name="Svaret hjalp ikke", exact=True).click()
    page.wait_for_function("() => window.__chatWidget.state().answers[0].rating === 'down'")
    up = bubble.get_by_role("button", name="Svaret hjalp", exact=True)
    assert up.get_attribute("aria-pressed") == "false"
    page.screenshot(path=str(SCREENSHOT))

    fake_openai.script(Reply(tokens=words(80, "vin"), interval=0.08))
    ask(page, "Fortæl mig alt om jeres rødvine")
    wait_for_tokens(page, 1, 5)
    page.get_by_role("button", name="Stop").click()
    second = wait_for_answer(page, 1)

    assert second["status"] == "stopped"
    assert 5 <= len(second["seqs"]) < 80
    assert second["final"] == second["streamed"] == "".join(words(len(second["seqs"]), "vin"))
    stopped = page.locator("chat-widget .bot").nth(1)
    assert "Svaret blev stoppet" in stopped.inner_text()
    assert fake_openai.wait_for_outcome(-1) == "client_disconnected"
    time.sleep(0.3)
    assert stopped.locator(".text").inner_text().strip() == second["final"].strip()
    assert page.get_by_role("button", name="Send").is_visible()


def test_it_resumes_a_streaming_answer_after_the_connection_drops(page, fake_openai):
    question = "Hvordan opbevarer jeg vin?"
    tokens = words(40, "ord")
    fake_openai.script(Reply(tokens=tokens, interval=0.06))

    ask(page, question)
    wait_for_tokens(page, 0, 5)
    page.evaluate("window.__chatWidget.dropConnection()")
    dropped_at = len(answer_state(page, 0)["seqs"])
    answer = wait_for_answer(page, 0)

    state = page.evaluate("window.__chatWidget.state()")
    assert state["reconnects"] == 1
    assert dropped_at < len(tokens)
    assert answer["status"] == "completed"
    assert answer["final"] == "".join(tokens)
    # Every token arrived exactly once, in order, through the stream itself.
    assert answer["streamed"] == answer["final"]
    assert answer["seqs"] == list(range(1, len(answer["seqs"]) + 1))
    assert answer["duplicates"] == 0
    assert page.locator("chat-widget .bot .text").inner_text().strip() == answer["final"].strip()
    assert len(chat_requests(fake_openai, question)) == 1


def test_a_question_is_answered_once_across_a_lost_connection(page, fake_openai):
    sent_then_lost = "Kan jeg returnere en flaske?"
    fake_openai.script("Ja, inden for 30 dage.", interval=0.05)

    # The question reaches the server, then the connection goes before its answer: the widget
    # sends it again with the same client_id and the server replays the answer it already began.
    page.evaluate(f"window.__chatWidget.send({sent_then_lost!r}); window.__chatWidget.dropConnection()")
    first = wait_for_answer(page, 0)

    assert first["final"] == "Ja, inden for 30 dage."
    assert len(chat_requests(fake_openai, sent_then_lost)) == 1

    queued = "Har I en butik i København?"
    fake_openai.script("Ja, på Vesterbro.", interval=0.02)
    # Sent while disconnected: queued, then sent once the widget is back.
    page.evaluate(f"window.__chatWidget.dropConnection(); window.__chatWidget.send({queued!r})")
    assert "Sendes, når forbindelsen er tilbage" in page.locator("chat-widget .log").inner_text()
    second = wait_for_answer(page, 1)

    assert second["final"] == "Ja, på Vesterbro."
    assert len(chat_requests(fake_openai, queued)) == 1
    assert page.locator("chat-widget .msg.user").count() == 2

    # The conversation outlives the page: a reload reconnects with the stored token.
    token = page.evaluate("localStorage.getItem('chatWidget:nordvin:conversation')")
    page.reload()
    page.get_by_role("button", name="Åbn chat").click()
    page.wait_for_function("() => window.__chatWidget.state().connected")
    assert page.evaluate("localStorage.getItem('chatWidget:nordvin:conversation')") == token
    assert len(chat_requests(fake_openai, queued)) == 1


def test_on_a_shop_whose_origin_is_not_allowed_it_says_so_and_stops_reconnecting(browser, platform_url):
    context = browser.new_context()
    # Chromium asks before a page it has no address for (a routed one) reaches 127.0.0.1; a real
    # shop and platform are both public, which needs no such permission.
    context.grant_permissions(["local-network-access"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    # A website that nordvin's allowed origins do not list (localhost is another origin).
    shop_url = platform_url.replace("127.0.0.1", "localhost") + "/another-shop/"
    page.route(
        shop_url,
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<html lang="en"><body><h1>Another shop</h1><script src="{platform_url}'
            '/static/conversations/widget.js" data-chatbot="nordvin" async></script></body></html>',
        ),
    )
    try:
        page.goto(shop_url)
        page.get_by_role("button", name="Open chat").click()
        page.wait_for_function("() => window.__chatWidget.state().fatal")
        time.sleep(1.0)

        assert page.evaluate("window.__chatWidget.state().reconnects") == 0
        assert "This website may not use this chat." in page.locator("chat-widget .log").inner_text()
        assert page.get_by_label("Your question").is_disabled()
    finally:
        context.close()


# --- images ----------------------------------------------------------------------------------

IMAGES = ROOT / "tests" / "data" / "images"


def test_it_attaches_an_image_and_sends_it_with_the_next_message(page, fake_openai):
    fake_openai.script("Et billede af en knust rødvinsflaske.")  # the vision model's description
    # Records what the widget sends over the websocket.
    page.evaluate(
        "() => { window.__sent = []; const send = WebSocket.prototype.send;"
        " WebSocket.prototype.send = function (data) {"
        " window.__sent.push(data); return send.call(this, data); }; }"
    )

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Vedhæft billede").click()
    chooser.value.set_files(str(IMAGES / "broken-bottle.png"))
    page.wait_for_function("() => { const a = window.__chatWidget.state().attachment; return a && a.id; }")

    attachment = page.evaluate("window.__chatWidget.state().attachment")
    assert page.locator("chat-widget .attachment img").is_visible()
    assert "næste besked" in page.locator("chat-widget .attachment").inner_text()
    [described] = [r for r in fake_openai.requests if r.path.startswith("/v1/chat/completions")][-1:]
    image_part = described.body["messages"][0]["content"][1]
    assert image_part["image_url"]["url"].startswith("data:image/png;base64,")

    ask(page, "Flasken var knust, da pakken kom. Hvad gør jeg?")

    page.wait_for_function("() => window.__sent.some((frame) => frame.includes('image_id'))")
    [sent] = [frame for frame in page.evaluate("window.__sent") if "image_id" in frame]
    assert f'"image_id":"{attachment["id"]}"' in sent
    assert page.locator("chat-widget .msg.user img.thumb").count() == 1
    assert page.locator("chat-widget .attachment").is_hidden()
    assert page.evaluate("window.__chatWidget.state().attachment") is None


def test_a_refused_image_shows_the_servers_message(browser, platform_url, tmp_path):
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"This is a text file that only says it is a photo.")
    # Not the `page` fixture: the browser logs the refusal (415) as a console error.
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        page.goto(f"{platform_url}/chat/nordvin/")
        page.get_by_role("button", name="Åbn chat").click()
        page.wait_for_function("() => window.__chatWidget.state().connected")

        with page.expect_file_chooser() as chooser:
            page.get_by_role("button", name="Vedhæft billede").click()
        chooser.value.set_files(str(fake))

        note = page.locator("chat-widget .note.error")
        note.wait_for()
        assert "Filen er ikke et understøttet billede" in note.inner_text()
        assert page.locator("chat-widget .attachment").is_hidden()
        assert page.evaluate("window.__chatWidget.state().attachment") is None
        assert page_errors == []
    finally:
        context.close()
