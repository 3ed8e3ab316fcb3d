"""Background work survives a worker that dies mid-task (kill -9), on both brokers.

A real `celery worker` runs a task that blocks until the test releases it; the test kills the
process that runs it and checks that the task then runs to its end once more: the pool child's
parent hands it back at once, and a new worker takes over what a dead worker held (the embedded
broker at its first fetch, Redis once the visibility timeout has passed).
"""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Short limits for a dead worker on Redis, so that the visibility timeout (derived from the hard
# limit) is short too; only with the solo pool, which does not enforce them on the blocked task.
REDIS_TIME_LIMITS = {"CELERY_TASK_TIME_LIMIT": "3", "CELERY_TASK_SOFT_TIME_LIMIT": "2"}


@pytest.fixture(params=["embedded", "redis"])
def broker_env(request, tmp_path) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(
        VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="chatplatform.settings",
        PYTHONPATH=str(ROOT),
        # Each test its own queue, so that nothing left on a shared Redis reaches its worker.
        PROBE_QUEUE=f"crash-probe-{uuid.uuid4().hex[:12]}",
    )
    if request.param == "redis":
        env.update(REDIS_URL=request.getfixturevalue("redis_url"))
    return env


class Worker:
    def __init__(self, env: dict[str, str], pool: str, log: Path):
        self.log = log
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "chatplatform",
                    "worker",
                    "-I",
                    "tests.e2e.crash_probe",
                    "-Q",
                    env["PROBE_QUEUE"],
                    "--pool",
                    pool,
                    "--concurrency",
                    "1",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def enqueue_probe(env: dict[str, str], folder: Path) -> None:
    code = (
        "import django; django.setup()\n"
        "from chatplatform.celery import app\n"
        f"app.send_task('tests.crash_probe', [{str(folder)!r}], queue={env['PROBE_QUEUE']!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)


def runs(folder: Path, state: str) -> list[Path]:
    return sorted(folder.glob(f"{state}-*"))


@pytest.mark.parametrize("killed", ["pool_child", "whole_worker"])
def test_a_task_whose_worker_is_killed_mid_task_runs_again_to_its_end(broker_env, tmp_path, killed):
    folder = tmp_path / "probe"
    folder.mkdir()
    log = tmp_path / "worker.log"
    pool = "prefork" if killed == "pool_child" else "solo"
    if pool == "solo" and "REDIS_URL" in broker_env:
        broker_env = {**broker_env, **REDIS_TIME_LIMITS}
    workers = [Worker(broker_env, pool, log)]
    try:
        enqueue_probe(broker_env, folder)
        wait_until(lambda: runs(folder, "started"), 60, "the task to start", log)
        [first] = runs(folder, "started")
        pid = int(first.name.split("-")[1])
        if killed == "whole_worker":
            assert pid == workers[0].process.pid
        else:
            assert pid != workers[0].process.pid
        os.kill(pid, signal.SIGKILL)
        if killed == "whole_worker":
            workers[0].process.wait(timeout=30)
            workers.append(Worker(broker_env, pool, log))

        wait_until(lambda: len(runs(folder, "started")) == 2, 90, "the task to run again", log)
        (folder / "release").touch()
        wait_until(lambda: runs(folder, "done"), 60, "the task to finish", log)

        started = runs(folder, "started")
        done = {path.name.removeprefix("done-") for path in runs(folder, "done")}
        killed_run = first.name.split("-")[2]
        assert len(started) == 2
        assert done == {path.name.split("-")[2] for path in started} - {killed_run}
    finally:
        for worker in workers:
            worker.stop()
