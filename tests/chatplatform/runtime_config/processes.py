"""Separate processes on the test's own database, for what must hold across processes."""

import json
import os
import queue
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.fernet import Fernet
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("platform_process.py")
ANSWER_SECONDS = 30


class PlatformProcess:
    """One `platform_process.py`; `ask()` sends a command and returns its result."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log_file = log.open("w")
        self.popen = subprocess.Popen(
            [sys.executable, str(SCRIPT)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.pid = self._next()["ready"]

    def _read(self) -> None:
        for line in self.popen.stdout:
            self._lines.put(line)
        self._lines.put("")  # the process has exited

    def _next(self) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=ANSWER_SECONDS)
        except queue.Empty:
            line = ""
        if not line:
            raise AssertionError(f"the platform process did not answer\n{self.log.read_text()[-3000:]}")
        return json.loads(line)

    def ask(self, op: str, **command: Any) -> Any:
        self.popen.stdin.write(json.dumps({"op": op, **command}) + "\n")
        self.popen.stdin.flush()
        return self._next()["result"]

    def stop(self) -> None:
        self.popen.stdin.close()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self._log_file.close()


def shared_database_url(tmp_path: Path) -> str:
    """A URL other processes can open: the test database itself on PostgreSQL; on SQLite (whose
    test database lives in this process's memory) a file copy of it."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(settings["USER"] or "")
        password = f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
        host = settings["HOST"] or "127.0.0.1"
        port = f":{settings['PORT']}" if settings["PORT"] else ""
        return f"postgres://{user}{password}@{host}{port}/{settings['NAME']}"
    if connection.vendor != "sqlite":
        pytest.skip(f"no shared database for {connection.vendor}")
    connection.ensure_connection()
    copy = tmp_path / "shared.sqlite3"
    with sqlite3.connect(copy) as target:
        connection.connection.backup(target)
    return f"sqlite:///{copy}"


def platform_processes(tmp_path: Path, count: int) -> Iterator[list[PlatformProcess]]:
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="chatplatform.settings",
        DATABASE_URL=shared_database_url(tmp_path),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=str(ROOT),
    )
    started: list[PlatformProcess] = []
    try:
        for n in range(count):
            # One at a time, so that those started are stopped when a later one fails to start.
            started.append(  # noqa: PERF401
                PlatformProcess(env, tmp_path / f"process-{n}.log")
            )
        yield started
    finally:
        for process in started:
            process.stop()
