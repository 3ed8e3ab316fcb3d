"""Test-only job kinds, imported by the tests and by the real workers they start (`celery -I`)."""

import os
import time
from pathlib import Path

from django.db import connection
from rest_framework import serializers

from chatplatform.jobs.errors import JobError
from chatplatform.jobs.registry import JobContext, job_kind

EFFECT_TABLE = "jobs_test_effect"
_INSERT = f"INSERT INTO {EFFECT_TABLE} (job_id, pid) VALUES (%s, %s)"  # noqa: S608  (constant)


class ProbePayload(serializers.Serializer):
    steps = serializers.IntegerField(default=3, min_value=0)
    delay = serializers.FloatField(default=0.02, min_value=0)
    folder = serializers.CharField(required=False, default="")


def effect_table_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {EFFECT_TABLE} (job_id BIGINT NOT NULL, pid INTEGER)")


@job_kind("test_effect", payload=ProbePayload, max_attempts=10, atomic=True)
def run_effect(ctx: JobContext, payload: dict) -> dict:
    """Steps with progress, then one effect row, written in the transaction that marks success."""
    for step in range(payload["steps"]):
        ctx.progress(step * 100 // max(payload["steps"], 1), f"step {step + 1}")
        time.sleep(payload["delay"])
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [ctx.job_id, os.getpid()])
    return {"pid": os.getpid()}


@job_kind("test_noop", payload=ProbePayload)
def run_noop(ctx: JobContext, payload: dict) -> dict:
    return {"ok": True}


@job_kind("test_block", payload=ProbePayload)
def run_block(ctx: JobContext, payload: dict) -> dict:
    """Runs, with a progress step every `delay`, until the file `release` is in `folder`."""
    release = Path(payload["folder"]) / "release"
    step = 0
    while not release.exists():
        ctx.progress(min(step, 99), f"waiting {step}")
        step += 1
        time.sleep(payload["delay"])
    return {"steps": step}


@job_kind("test_fail", payload=ProbePayload, max_attempts=3)
def run_fail(ctx: JobContext, payload: dict) -> dict:
    raise JobError("upstream_down", "The upstream service did not answer.", transient=True)


@job_kind("test_refuse", payload=ProbePayload, max_attempts=3)
def run_refuse(ctx: JobContext, payload: dict) -> dict:
    raise JobError("bad_input", "The input cannot be used.")
