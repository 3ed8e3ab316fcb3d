"""Access to the real PostgreSQL and Redis a test needs.

Locally, a test whose service is not configured is skipped. Under CI=true (where .ci/run sets
DATABASE_URL and REDIS_URL) a missing or stopped service is a failure, never a skip, except in
the CI pass on the embedded default (CI_EMBEDDED=1: SQLite, no Redis, as `make run`), where such
tests skip because the PostgreSQL and Redis pass runs them.
"""

import os
import socket
from urllib.parse import urlparse

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _embedded_pass() -> bool:
    return os.environ.get("CI_EMBEDDED", "").lower() in {"1", "true", "yes"}


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), 2):
            return True
    except OSError:
        return False


def require_service(variable: str, default_port: int) -> str:
    url = os.environ.get(variable, "")
    if not url:
        message = f"{variable} is not set"
    elif not _reachable(url, default_port):
        message = f"{variable} points at a service that does not answer"
    else:
        return url
    if _embedded_pass() and not url:
        pytest.skip(f"{variable} is not set in CI's embedded pass; the PostgreSQL and Redis pass runs this.")
    if _in_ci():
        pytest.fail(f"{message}; under CI this service is required.")
    pytest.skip(f"{message}; set it to run this test against the real service.")
    return ""  # unreachable: skip raises


def redis_url() -> str:
    return require_service("REDIS_URL", 6379)


def postgres_url() -> str:
    url = require_service("DATABASE_URL", 5432)
    if not url.startswith(("postgres://", "postgresql://")):
        if _in_ci() and not _embedded_pass():
            pytest.fail("DATABASE_URL must point at PostgreSQL under CI.")
        pytest.skip("DATABASE_URL is not a PostgreSQL URL.")
    return url
