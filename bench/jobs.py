"""Background jobs through one real worker on Redis and PostgreSQL: jobs per second, and the time
from create to start on an idle worker. See bench/README.md, "bench/jobs.py"."""

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def register_kind() -> None:
    from chatplatform.jobs.registry import job_kind

    @job_kind("bench_noop", description="Does nothing: the cost of a job itself.")
    def bench_noop(ctx, payload: dict) -> None:
        return None


if __name__ != "__main__":
    register_kind()  # imported by the worker (`celery -I bench.jobs`)


def wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def empty_redis_db(url: str, wanted: int | None) -> int:
    """The Redis database to use: it must be empty, since the run flushes it at the end."""
    import redis

    for db in [wanted] if wanted is not None else range(15, 1, -1):
        if redis.Redis.from_url(f"{url}/{db}").dbsize() == 0:
            return db
    if wanted is not None:
        raise SystemExit(f"Redis database {wanted} is not empty; this run would flush it.")
    raise SystemExit("No empty Redis database among 2..15.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000, help="jobs in the throughput run")
    parser.add_argument("--latency-samples", type=int, default=100, help="jobs created one by one")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--redis-db", type=int, default=None, help="default: the highest empty one of 2..15")
    parser.add_argument("--keep", action="store_true", help="keep the database and the worker's log")
    args = parser.parse_args()

    import psycopg
    import redis

    args.redis_db = empty_redis_db(args.redis, args.redis_db)
    database = f"bench_jobs_{secrets.token_hex(4)}"
    with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    workdir = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    queue = f"bench-jobs-{secrets.token_hex(4)}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="chatplatform.settings",
        DATABASE_URL=f"{args.postgres}/{database}",
        REDIS_URL=f"{args.redis}/{args.redis_db}",
        VAR_DIR=str(workdir / "var"),
        JOBS_QUEUE=queue,
        LOG_LEVEL="WARNING",
        DJANGO_DEBUG="true",
        PYTHONPATH=str(ROOT),
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    register_kind()
    from chatplatform.jobs.models import Job
    from chatplatform.jobs.services import job_create

    log = workdir / "worker.log"
    command = [str(BIN / "celery"), "-A", "chatplatform", "worker", "-I", "bench.jobs", "-Q", queue]
    command += ["--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    worker = subprocess.Popen(  # noqa: S603  (our own command)
        [*command, "--loglevel", "WARNING"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # Warm-up: the worker is ready once it has run a job.
        first = job_create("bench_noop", {})
        wait(lambda: Job.objects.filter(pk=first.pk, status="succeeded").exists(), 120, "the worker")

        # Idle worker: one job at a time, from create to start.
        latencies = []
        for _ in range(args.latency_samples):
            job = job_create("bench_noop", {})
            wait(lambda job=job: Job.objects.filter(pk=job.pk, status="succeeded").exists(), 30, "a job")
            job.refresh_from_db()
            latencies.append((job.started_at - job.created_at).total_seconds() * 1000)

        # Throughput: all jobs created, then the one worker works through them.
        started = time.monotonic()
        ids = [job_create("bench_noop", {}).pk for _ in range(args.jobs)]
        created_in = time.monotonic() - started
        batch = Job.objects.filter(pk__in=ids)
        wait(lambda: batch.filter(status="succeeded").count() == len(ids), 600, "the batch")
        first_start = min(batch.values_list("started_at", flat=True))
        last_end = max(batch.values_list("finished_at", flat=True))
        run_seconds = (last_end - first_start).total_seconds()
        figures = {
            "jobs": args.jobs,
            "jobs_per_second": round(args.jobs / run_seconds, 1),
            "create_seconds": round(created_in, 2),
            "idle_create_to_start_ms": {
                "samples": len(latencies),
                "p50": round(statistics.median(latencies), 1),
                "p95": round(percentile(latencies, 0.95), 1),
                "max": round(max(latencies), 1),
            },
        }
        print(json.dumps(figures, indent=2))
        targets = figures["jobs_per_second"] >= 100 and figures["idle_create_to_start_ms"]["p50"] < 50
        print("targets (>= 100 jobs/s, p50 < 50 ms):", "met" if targets else "NOT met")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            redis.Redis.from_url(f"{args.redis}/{args.redis_db}").flushdb()
        else:
            print(f"kept database {database} and {workdir}")


if __name__ == "__main__":
    main()
