"""docker-compose.yml cannot run on the CI machine (no Docker engine), so its shape is checked."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_runs_web_worker_and_beat_from_one_image_with_postgres_and_redis():
    services = load_compose()["services"]

    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert len(images) == 1
    assert all(services[name]["build"] == "." for name in ("web", "worker", "beat"))


def test_each_process_runs_the_right_command():
    services = load_compose()["services"]

    # daphne through chatplatform.server, which adds the HTTP_MAX_BODY_BYTES ceiling.
    assert services["web"]["command"][:3] == ["python", "-m", "chatplatform.server"]
    assert "chatplatform.asgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "chatplatform", "worker"]
    assert "chat,ingestion,maintenance,jobs" in services["worker"]["command"]
    beat = services["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "chatplatform", "beat"]
    # django-celery-beat's database scheduler behind the lock that keeps a second beat standing by.
    assert "chatplatform.jobs.beat:LockedDatabaseScheduler" in beat


def test_databases_have_health_checks_and_the_app_waits_for_them():
    services = load_compose()["services"]

    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    for name in ("worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_configuration_comes_from_an_env_file_and_data_lives_in_volumes():
    compose = load_compose()
    services = compose["services"]

    for name in ("web", "worker", "beat"):
        assert services[name]["env_file"] == ".env"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://")
        assert "media:/app/var/media" in services[name]["volumes"]
    assert {"postgres-data", "redis-data", "media"} <= set(compose["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]


def test_the_web_process_believes_no_forwarded_headers_from_its_clients():
    # Published directly: anyone can reach it, so nobody's X-Forwarded-For may set the address
    # that the per-address limits count.
    web = load_compose()["services"]["web"]

    assert "--proxy-headers" not in web["command"]
    assert not web["environment"].get("TRUSTED_PROXIES")


def test_the_database_password_has_no_default():
    compose = load_compose()
    services = compose["services"]

    required = "${POSTGRES_PASSWORD:?"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(required)
    for name in ("web", "worker", "beat", "migrate"):
        assert required in services[name]["environment"]["DATABASE_URL"]
    assert "${POSTGRES_PASSWORD:-" not in (ROOT / "docker-compose.yml").read_text()


def test_the_image_leaves_out_local_secrets_state_and_the_virtualenv():
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    # .env, var/field_encryption.key, var/db.sqlite3 and .venv stayed on the developer's machine.
    assert {".env", "var", ".venv", ".git", "**/*.sqlite3"} <= ignored
    assert 'CMD ["python", "-m", "chatplatform.server"' in (ROOT / "Dockerfile").read_text()
