"""Liveness and readiness: is the process up, and can it reach what it needs?"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection


@dataclass(frozen=True)
class CheckResult:
    name: str
    up: bool
    latency_ms: float
    detail: str = ""

    def as_dict(self) -> dict:
        body = {"status": "up" if self.up else "down", "latency_ms": round(self.latency_ms, 1)}
        if self.detail:
            body["detail"] = self.detail
        return body


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not return the value it was given")
    cache.delete(key)


def check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        if not folder.is_dir():
            raise RuntimeError("the broker folder does not exist")
        probe = folder / f".readyz-{uuid.uuid4().hex}"
        probe.write_text("")
        probe.unlink()
        return
    with Connection(url, connect_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_checks() -> list[CheckResult]:
    results = []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            elapsed = (time.perf_counter() - started) * 1000
            results.append(CheckResult(name, False, elapsed, exc.__class__.__name__))
        else:
            results.append(CheckResult(name, True, (time.perf_counter() - started) * 1000))
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    ready = all(result.up for result in results)
    return JsonResponse(
        {"status": "ok" if ready else "down", "checks": {r.name: r.as_dict() for r in results}},
        status=200 if ready else 503,
    )
