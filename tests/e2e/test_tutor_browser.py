"""The tutor's study page in a real browser against a real server process, with the local
provider: log in, create a session, upload a document and watch it being processed, read the
analysis and the lesson, take a quiz and see the score and the explanations; then write a summary
and see the engagement it adds up to.

Daphne serves the platform with `DJANGO_DEBUG=False` on the database of the environment (a
throwaway PostgreSQL database) or on SQLite. No worker runs: jobs wait in the job table, and the
test runs them itself, in another process, once the page shows the document waiting, the way a
worker would pick them up.
"""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.e2e.browser import (
    BIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    chromium_required,
    daphne_serving,
    server_database,
)

try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover  (requirements.txt pins it)
    sync_playwright = None

pytestmark = pytest.mark.browser

DOCUMENT = ROOT / "tests" / "data" / "tutor" / "photosynthesis.txt"
USERNAME, PASSWORD = "e2e-learner", "e2e-learner-pass-123"
SCREENSHOT = Path("/tmp/tutor.png")  # noqa: S108  (a fixed place to look at the last run)
RUN_JOBS = (
    "import django; django.setup(); "
    "from chatplatform.jobs.runner import jobs_run_available; "
    "jobs_run_available(budget_seconds=60)"
)


@pytest.fixture(scope="module", autouse=True)
def _chromium() -> None:
    chromium_required()


def _python(env: dict[str, str], code: str) -> subprocess.Popen:
    """Python code run with Django set up, in the server's environment."""
    return subprocess.Popen(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen, what: str) -> str:
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, f"{what} failed:\n{output}"
    return output


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    """Daphne on a free port; yields its base URL and the environment its processes share."""
    tmp = tmp_path_factory.mktemp("tutor")
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
            AI_PROVIDER="local",
            # Wake-ups go to the temporary folder, where no worker reads them.
            CELERY_BROKER_URL="filesystem://",
            LOG_LEVEL="WARNING",
        )
        collectstatic = _python(
            env,
            "from django.core.management import call_command as run; "
            "run('collectstatic', '--noinput', verbosity=0)",
        )
        # One process for both, which saves starting Django once more.
        _finish(
            _python(
                env,
                "from django.core.management import call_command as run; run('migrate', '--noinput', "
                f"verbosity=0); run('create_learner', {USERNAME!r}, password={PASSWORD!r})",
            ),
            "migrate and create_learner",
        )
        _finish(collectstatic, "collectstatic")

        with daphne_serving(env, tmp / "daphne.log") as base_url:
            yield base_url, env


@pytest.fixture
def page(server) -> Iterator["Page"]:
    base_url, _ = server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.goto(f"{base_url}/tutor/")
        try:
            yield page
        finally:
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            browser.close()
        assert problems == []


def state(page: "Page") -> dict:
    return page.evaluate("window.__tutorPage.state()")


def test_a_learner_studies_a_document_from_upload_to_quiz_score(page, server):
    _, env = server
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in.").first.wait_for()
    assert page.evaluate("sessionStorage.getItem('tutor:token')")

    page.get_by_label("Title").fill("Photosynthesis")
    page.get_by_role("button", name="Create session").click()
    page.get_by_text('Session "Photosynthesis"').wait_for()

    page.get_by_label("PDF, DOCX, text or Markdown").set_input_files(str(DOCUMENT))
    page.get_by_role("button", name="Upload").click()
    # The document waits for a worker; the page keeps showing its state meanwhile.
    page.locator("#documents li[data-status=pending]").wait_for()
    jobs = subprocess.run(
        [sys.executable, "-c", RUN_JOBS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert jobs.returncode == 0, jobs.stderr
    page.get_by_text("Ready: analyse the documents.").wait_for()
    [document] = state(page)["documents"]
    assert (document["status"], document["progress"]) == ("ready", 100)
    assert document["chunks"] > 0
    assert document["chunks_embedded"] == document["chunks"]
    assert "100%" in page.locator("#documents li").inner_text()

    page.get_by_role("button", name="Analyse the documents").click()
    page.locator("#analysis dt").first.wait_for()
    terms = page.locator("#analysis dt").all_inner_texts()
    assert terms
    assert page.locator("#analysis .summary").inner_text().strip()

    page.get_by_role("button", name="Make a lesson").click()
    page.locator("#lesson .lesson-section").first.wait_for()
    assert page.locator("#lesson .objectives li").count() > 0

    page.get_by_label("Questions").fill("4")
    page.get_by_role("button", name="Make a quiz").click()
    page.locator("#questions li").first.wait_for()
    quiz = state(page)["quiz"]
    assert len(quiz["questions"]) == page.locator("#questions li").count() > 0
    assert "answer" not in quiz["questions"][0]  # the page is not given the answers
    # The first question answered right (read from the API with answers), the others left empty.
    first = quiz["questions"][0]
    answer = page.evaluate(
        """async (id) => {
            const response = await fetch(`/api/v1/tutor/sessions/${id}/quiz/?include_answers=true`,
                {headers: {Authorization: `Bearer ${sessionStorage.getItem('tutor:token')}`}});
            return (await response.json()).questions[0].answer;
        }""",
        state(page)["session"]["id"],
    )
    item = page.locator(f"#questions li[data-question='{first['id']}']")
    if first["type"] in ("multiple_choice", "true_false"):
        item.get_by_label(answer, exact=True).check()
    else:
        item.get_by_role("textbox").fill(answer)
    page.get_by_role("button", name="Submit answers").click()

    page.locator("#result .score").wait_for()
    total = len(quiz["questions"])
    assert page.locator("#result .score").inner_text() == f"Score: 1 of {total} ({round(100 / total)}%)"
    result = state(page)["result"]
    assert [a["correct"] for a in result["answers"]] == [True] + [False] * (total - 1)
    assert page.locator("#result li.correct").count() == 1
    assert all(text.strip() for text in page.locator("#result .explanation").all_inner_texts())

    # A summary naming the first key concept; the rest are missed, and the session keeps them.
    page.get_by_label("In your own words").fill(f"My notes: {terms[0]} matters in this material.")
    page.get_by_role("button", name="Check my summary").click()
    page.locator("#coverage .missed").wait_for()
    summary = state(page)["summary"]
    assert summary["covered"][0] == terms[0]
    assert set(summary["missed"]) == set(terms) - set(summary["covered"])

    page.get_by_role("button", name="Show my engagement").click()
    page.locator("#engagement .score").wait_for()
    engagement = state(page)["engagement"]
    assert sum(part["points"] for part in engagement["contributions"]) == engagement["score"] > 0
    assert page.locator("#engagement .score").inner_text() == f"Engagement: {engagement['score']} of 100"
    assert page.locator("#engagement tr[data-signal]").count() == 6
    assert state(page)["errors"] == []
