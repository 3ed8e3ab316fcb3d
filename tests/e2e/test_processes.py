"""`make run` starts web, worker and beat with honcho; this starts the same Procfile for real."""

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def ready(port: int):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


async def ask_demo(port: int) -> dict:
    url = f"ws://127.0.0.1:{port}/ws/chat/nordvin/"
    async with websockets.connect(url, origin=f"http://127.0.0.1:{port}") as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "message", "text": "Hvad koster fragt til Bornholm?"}))
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
            if event["type"] in {"end", "error"}:
                return event


@pytest.fixture
def embedded_env(tmp_path) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(
        VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="chatplatform.settings",
        DJANGO_SUPERUSER_PASSWORD="e2e-admin-pass",
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    for command in (["migrate", "--noinput"], ["load_demo_data"], ["ensure_admin"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    return env


@contextlib.contextmanager
def procfile_started(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """Run the Procfile with honcho as `make run` does; stop it with Ctrl-C (SIGINT) at the end."""
    port = free_port()
    procfile = tmp_path / "Procfile"
    # The project's Procfile names the virtualenv's binaries; the test runs whichever one it is in.
    procfile.write_text((ROOT / "Procfile").read_text().replace(".venv/bin/", f"{BIN}/"))
    log = tmp_path / "honcho.log"
    with log.open("w") as out:
        honcho = subprocess.Popen(
            [str(BIN / "honcho"), "-f", str(procfile), "-d", str(ROOT), "start"],
            cwd=ROOT,
            env={**env, "WEB_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        body = wait_for(lambda: ready(port), 60, "web to answer /readyz", log)
        assert body["status"] == "ok"
        wait_for(lambda: "ready." in log.read_text(), 60, "the worker to be ready", log)
        wait_for(lambda: "beat: Starting" in log.read_text(), 60, "beat to start", log)
        yield port, log
    finally:
        honcho.send_signal(signal.SIGINT)
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            raise


def context_recorded(log: Path, times: int) -> bool:
    return len(re.findall(r"answers_record\[[\w-]+\] succeeded", log.read_text())) >= times


def test_web_worker_and_beat_start_together_and_stop_on_ctrl_c(embedded_env, tmp_path):
    with procfile_started(embedded_env, tmp_path) as (port, log):
        answer = asyncio.run(ask_demo(port))
        assert answer["type"] == "end", log.read_text()[-4000:]
        assert "Bornholm" in answer["text"]
        # The worker picks the after-answer task up from the file-system broker and runs it.
        wait_for(lambda: context_recorded(log, 1), 60, "the worker to store the answer's context", log)
        text = log.read_text()
        assert "web.1" in text
        assert "worker.1" in text
        assert "beat.1" in text
    # honcho has returned, so every process, web included, has exited.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def celery_worker_pid(shell_pid: int) -> int | None:
    """The celery worker that the Procfile's restart loop (a shell) runs at the moment."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # The command name may hold spaces; the fields after it do not.
            fields = stat.read_text().rpartition(")")[2].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
            if int(fields[1]) == shell_pid and b"celery" in cmdline:
                return int(stat.parent.name)
    return None


def test_a_worker_killed_by_sigkill_is_started_again_while_web_and_beat_keep_running(embedded_env, tmp_path):
    with procfile_started(embedded_env, tmp_path) as (port, log):
        shell_pid = int(re.search(r"worker\.1 started \(pid=(\d+)\)", log.read_text())[1])
        worker_pid = wait_for(lambda: celery_worker_pid(shell_pid), 30, "the worker's process", log)
        os.kill(worker_pid, signal.SIGKILL)

        wait_for(lambda: log.read_text().count(" ready.") >= 2, 60, "the worker to start again", log)
        assert "stopped (rc=" not in log.read_text()
        assert ready(port)["status"] == "ok"
        answer = asyncio.run(ask_demo(port))
        assert answer["type"] == "end", log.read_text()[-4000:]
        wait_for(lambda: context_recorded(log, 1), 60, "the new worker to store the answer's context", log)
    assert "starting it again" in log.read_text()
