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

    assert services["web"]["command"][:1] == ["daphne"]
    assert "chatplatform.asgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "chatplatform", "worker"]
    assert "chat,ingestion,maintenance" in services["worker"]["command"]
    beat = services["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "chatplatform", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat


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
