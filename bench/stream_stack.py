"""The processes and data of one benchmark run, started and removed by `Stack`.

A throwaway PostgreSQL database (migrated, with the demo chatbot), an empty Redis database, the
fake OpenAI server (bench/fake_provider.py), the platform (daphne, bench.platform_asgi) and the bare
relay (daphne, bench.relay_asgi), each on a free port of 127.0.0.1, with one environment.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis

from bench.burst_probe import read_windows
from bench.stream_clients import FIRST_TOKEN_MS, INTERVAL_MS, TOKENS

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
DAPHNE = ROOT / ".venv" / "bin" / "daphne"
SERVERS = ("relay", "platform")


def cpu_split(pin: bool) -> tuple[set[int], set[int]] | None:
    """(CPUs of the servers under test, CPUs of everything else), or None when not pinning.

    The two daphne processes (which never serve a round at the same time) get the last CPU this
    process may use, and the benchmark's clients and the fake provider the others, so that the
    server being measured has a core to itself instead of sharing it with the load it measures.
    PostgreSQL and Redis are the machine's services and stay where the scheduler puts them.
    """
    allowed = sorted(os.sched_getaffinity(0))
    if not pin or len(allowed) < 2:
        return None
    return {allowed[-1]}, set(allowed[:-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout:.0f} s")


@dataclass
class Stack:
    """The processes, database, Redis database and files of one run; `close()` removes them all."""

    pg_admin_url: str
    redis_host: str
    redis_port: int
    redis_db: int | None
    keep: bool
    # (servers' CPUs, the others' CPUs) from `cpu_split`, or None to leave placement to the kernel.
    cpus: tuple[set[int], set[int]] | None = None
    # Serve through bench/burst_probe.py, which records each burst's CPU (`probe_windows`).
    burst_probe: bool = False
    database: str = field(default_factory=lambda: f"bench_{secrets.token_hex(4)}")
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    tmp: Path | None = None
    database_created: bool = False
    redis_chosen: int | None = None
    secret_key: str = ""
    encryption_key: str = ""

    @property
    def database_url(self) -> str:
        return self.pg_admin_url.rsplit("/", 1)[0] + "/" + self.database

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "OPENAI_", "CHAT_", "DATABASE_", "REDIS_", "CELERY_"))
        }
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "DJANGO_SETTINGS_MODULE": "chatplatform.settings",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": f"redis://{self.redis_host}:{self.redis_port}/{self.redis_chosen}",
                "DJANGO_DEBUG": "False",
                "DJANGO_SECRET_KEY": self.secret_key,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "FIELD_ENCRYPTION_KEY": self.encryption_key,
                "VAR_DIR": str(self.tmp),
                "AI_PROVIDER": "openai",
                "OPENAI_BASE_URL": f"http://127.0.0.1:{self.ports['provider']}/v1",
                "OPENAI_API_KEY": "sk-bench",
                "LOG_LEVEL": "WARNING",
                # Every client connects from 127.0.0.1: lift the per-IP limit, not the per-connection one.
                "CHAT_MESSAGES_PER_MINUTE_PER_IP": "1000000",
                "CHAT_MAX_CONNECTIONS_PER_IP": "1000000",
            }
        )
        return env

    def start(self) -> None:
        from cryptography.fernet import Fernet

        if self.cpus is not None:
            # This process (the clients) and what it starts, unless told otherwise, on the others.
            os.sched_setaffinity(0, self.cpus[1])
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-stream-"))
        self.secret_key = secrets.token_urlsafe(40)
        self.encryption_key = Fernet.generate_key().decode()
        self.redis_chosen = self._choose_redis_db()
        with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.database_created = True
        self.ports = {"provider": free_port(), "relay": free_port(), "platform": free_port()}
        self._spawn(
            "provider",
            [
                str(PYTHON),
                "-m",
                "bench.fake_provider",
                "--port",
                str(self.ports["provider"]),
                "--first-token-ms",
                str(FIRST_TOKEN_MS),
                "--interval-ms",
                str(INTERVAL_MS),
                "--tokens",
                str(TOKENS),
            ],
        )
        wait_for_port(self.ports["provider"], self.processes["provider"], "the fake OpenAI server")
        step("migrating the database")
        self._manage("migrate", "--noinput")
        step("loading the demo chatbot (knowledge base embedded by the fake server)")
        self._manage("load_demo_data")
        for name, app in (
            ("platform", "bench.platform_asgi:application"),
            ("relay", "bench.relay_asgi:application"),
        ):
            daphne = [str(PYTHON), "-m", "bench.burst_probe"] if self.burst_probe else [str(DAPHNE)]
            self._spawn(
                name,
                [*daphne, "-v", "0", "-b", "127.0.0.1", "-p", str(self.ports[name]), app],
                cpus=self.cpus[0] if self.cpus else None,
                env={"BURST_PROBE_OUT": str(self._windows_file(name))},
            )
        for name in SERVERS:
            wait_for_port(self.ports[name], self.processes[name], name)

    def _choose_redis_db(self) -> int:
        """The Redis database to use: the one asked for, else the highest empty one (flushed after)."""
        if self.redis_db is not None:
            return self.redis_db
        for db in range(15, 1, -1):
            client = redis.Redis(host=self.redis_host, port=self.redis_port, db=db)
            try:
                if client.dbsize() == 0:
                    return db
            finally:
                client.close()
        raise RuntimeError("no empty Redis database among 2..15; pass --redis-db")

    def _manage(self, *args: str) -> None:
        result = subprocess.run(  # noqa: S603  (our own manage.py)
            [str(PYTHON), str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def _windows_file(self, name: str) -> Path:
        return self.tmp / f"{name}-windows.jsonl"

    def probe_windows(self, name: str) -> list[dict]:
        """The bursts `bench/burst_probe.py` recorded in server `name` (read before `close`)."""
        return read_windows(self._windows_file(name))

    def _spawn(
        self, name: str, command: list[str], cpus: set[int] | None = None, env: dict[str, str] | None = None
    ) -> None:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        # Set in the child before it runs the command, so that every thread it starts inherits it.
        pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        with log.open("wb") as handle:
            # A session of its own: Ctrl-C reaches only this script, which then stops them in order.
            self.processes[name] = subprocess.Popen(  # noqa: S603  (our own commands)
                command,
                cwd=ROOT,
                env={**self.env(), **(env or {})},
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=pin,  # safe: this process has started no threads yet
            )

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.logs.get(name)
        if path is None or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.keep:
            print(f"kept database {self.database} and Redis db {self.redis_chosen}", file=sys.stderr)
        else:
            if self.database_created:
                with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            if self.redis_chosen is not None:
                client = redis.Redis(host=self.redis_host, port=self.redis_port, db=self.redis_chosen)
                client.flushdb()
                client.close()
        if self.tmp is not None:
            if self.keep:
                print(f"kept the processes' logs in {self.tmp}", file=sys.stderr)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)


def step(message: str) -> None:
    """Progress, on stderr."""
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)
