"""Jobs on real `celery worker` processes, on the embedded file-system broker and on Redis.

The workers run against a database of their own (a SQLite file, or a fresh PostgreSQL database
next to Redis); the test creates and cancels jobs through `jobs_cli` subprocesses and reads the
outcome straight from that database. `jobs_cli sweep-loop` plays beat's one-minute sweeper every
half second, as the leases here last 2 s.
"""

import contextlib
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
EFFECT = "jobs_test_effect"


class Platform:
    def __init__(self, env: dict[str, str], tmp_path: Path):
        self.env = env
        self.log = tmp_path / "workers.log"
        self.processes: list[subprocess.Popen] = []

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "tests.chatplatform.jobs.jobs_cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def create(self, specs: list[dict]) -> list[int]:
        return json.loads(self.cli("create", json.dumps(specs)))

    def start(self, *args: str) -> subprocess.Popen:
        with self.log.open("a") as out:
            process = subprocess.Popen(
                [*args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def worker(self, pool: str = "prefork", concurrency: int = 2) -> subprocess.Popen:
        return self.start(
            str(BIN / "celery"),
            "-A",
            "chatplatform",
            "worker",
            "-I",
            "tests.chatplatform.jobs.probe_kinds",
            "-Q",
            self.env["JOBS_QUEUE"],
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        )

    def sweeper(self) -> subprocess.Popen:
        return self.start(sys.executable, "-m", "tests.chatplatform.jobs.jobs_cli", "sweep-loop", "0.5")

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes:
            self.kill(process)

    def query(self, sql: str) -> list[tuple]:
        url = self.env.get("DATABASE_URL", "")
        if url:
            with psycopg.connect(url, autocommit=True) as conn:
                return conn.execute(sql).fetchall()
        conn = sqlite3.connect(Path(self.env["VAR_DIR"]) / "db.sqlite3", timeout=20)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def statuses(self) -> dict[str, int]:
        return dict(self.query("SELECT status, COUNT(*) FROM jobs_job GROUP BY status"))

    def job(self, job_id: int) -> dict:
        columns = ["status", "progress", "started_at", "finished_at", "cancel_requested_at", "priority"]
        sql = f"SELECT {', '.join(columns)} FROM jobs_job WHERE id = {int(job_id)}"  # noqa: S608  (an int)
        [row] = self.query(sql)
        return dict(zip(columns, row, strict=True))


def _timestamp(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@pytest.fixture
def fresh_postgres():
    """A database of its own, or None when DATABASE_URL is not PostgreSQL (then SQLite)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield None
        return
    name = f"jobs_{secrets.token_hex(4)}"
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["embedded", "redis"])
def platform(request, tmp_path):
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env.update(
        VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="chatplatform.settings",
        PYTHONPATH=str(ROOT),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        # Each test its own queue, so that nothing left on a shared Redis reaches its workers.
        JOBS_QUEUE=f"jobs-test-{uuid.uuid4().hex[:12]}",
        JOBS_LEASE_SECONDS="2",
        JOBS_RETRY_BACKOFF_SECONDS="0.2",
        TELEMETRY_ENABLED="false",
    )
    if request.param == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
        database = request.getfixturevalue("fresh_postgres")
        if database:
            env["DATABASE_URL"] = database
    migrate = [sys.executable, "manage.py", "migrate", "--noinput"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True, capture_output=True)
    platform = Platform(env, tmp_path)
    platform.cli("setup")
    yield platform
    platform.stop_all()


def test_idempotent_jobs_each_take_effect_once_though_the_worker_is_killed_twice(platform):
    payload = {"steps": 3, "delay": 0.03}
    specs = [{"kind": "test_effect", "payload": payload, "key": f"job-{n}"} for n in range(100)]
    ids = platform.create(specs)
    # Created twice: the idempotency keys give back the same 100 jobs.
    assert platform.create(specs) == ids
    platform.sweeper()
    worker = platform.worker()
    for done_before_kill in (20, 55):
        wait_until(
            lambda n=done_before_kill: platform.statuses().get("succeeded", 0) >= n,
            120,
            f"{done_before_kill} jobs to succeed",
            platform.log,
        )
        assert platform.statuses().get("succeeded", 0) < 100, "the jobs ran too fast to kill mid-run"
        platform.kill(worker)
        worker = platform.worker()

    wait_until(lambda: platform.statuses() == {"succeeded": 100}, 180, "every job to succeed", platform.log)
    [(rows, distinct)] = platform.query(f"SELECT COUNT(*), COUNT(DISTINCT job_id) FROM {EFFECT}")  # noqa: S608
    assert (rows, distinct) == (100, 100)
    [(retried,)] = platform.query("SELECT COUNT(*) FROM jobs_job WHERE attempts > 1")
    assert retried >= 1, "no job was running when the worker was killed"


def test_a_priority_9_job_starts_before_20_earlier_priority_0_jobs_on_one_busy_worker(platform, tmp_path):
    folder = tmp_path / "block"
    folder.mkdir()
    platform.worker(pool="solo", concurrency=1)
    [blocker] = platform.create([{"kind": "test_block", "payload": {"folder": str(folder), "delay": 0.05}}])
    busy = lambda: platform.job(blocker)["status"] == "running"  # noqa: E731
    wait_until(busy, 60, "the worker to be busy", platform.log)

    low = platform.create([{"kind": "test_noop", "priority": 0} for _ in range(20)])
    [high] = platform.create([{"kind": "test_noop", "priority": 9}])
    (folder / "release").touch()

    everything = [blocker, *low, high]
    wait_until(
        lambda: all(platform.job(job_id)["status"] == "succeeded" for job_id in everything),
        60,
        "every job to succeed",
        platform.log,
    )
    high_start = _timestamp(platform.job(high)["started_at"])
    assert all(high_start < _timestamp(platform.job(job_id)["started_at"]) for job_id in low)


def test_a_cancelled_running_job_stops_at_its_next_progress_step(platform, tmp_path):
    folder = tmp_path / "never-released"
    folder.mkdir()
    platform.worker(pool="solo", concurrency=1)
    [job_id] = platform.create([{"kind": "test_block", "payload": {"folder": str(folder), "delay": 0.1}}])
    wait_until(lambda: platform.job(job_id)["progress"] >= 3, 60, "the job to make progress", platform.log)

    platform.cli("cancel", str(job_id))
    wait_until(lambda: platform.job(job_id)["status"] == "cancelled", 30, "the job to stop", platform.log)
    job = platform.job(job_id)
    stopped_after = _timestamp(job["finished_at"]) - _timestamp(job["cancel_requested_at"])
    assert stopped_after.total_seconds() < 2
    with contextlib.suppress(FileNotFoundError):
        assert not (folder / "release").exists()
