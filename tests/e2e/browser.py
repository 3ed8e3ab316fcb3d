"""What the browser tests share: Debian's chromium, a throwaway database for a server process,
and Daphne serving the platform on a free port until the test is done."""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.services import _in_ci

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover  (requirements.txt pins it)
    sync_playwright = None

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_required() -> None:
    """Fail under CI, skip elsewhere, when the browser or Playwright is missing; called first, so
    that a machine without a browser does not build a server for nothing."""
    missing = None
    if sync_playwright is None:
        missing = "the playwright package is not installed (pip install -r requirements.txt)"
    elif not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    if missing:
        if _in_ci():
            pytest.fail(f"{missing}; under CI the browser test must run.")
        pytest.skip(f"browser test skipped, no browser here: {missing}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def server_database(tmp: Path) -> Iterator[str]:
    """A throwaway PostgreSQL database when DATABASE_URL points at PostgreSQL, else SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp / 'db.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    name = f"chatplatform_browser_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def daphne_serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """Daphne serving the platform in `env` on a free port until the block ends; yields its base
    URL once /healthz answers."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        daphne = subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "chatplatform.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_for(lambda: _healthy(base_url), 30, "daphne to answer /healthz")
        except AssertionError:
            raise AssertionError(f"daphne did not start:\n{log.read_text()}") from None
        yield base_url
    finally:
        daphne.send_signal(signal.SIGTERM)
        try:
            daphne.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daphne.kill()
            daphne.wait()
