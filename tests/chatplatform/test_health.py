import pytest

pytestmark = pytest.mark.django_db

STOPPED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_healthz_says_the_process_is_alive(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_on_the_embedded_defaults(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "up",
        "cache": "up",
        "broker": "up",
    }


def test_readyz_reports_a_stopped_redis_as_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": STOPPED_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.CELERY_BROKER_URL = STOPPED_REDIS
    settings.CELERY_BROKER_CONNECTION_TIMEOUT = 0.5

    response = client.get("/readyz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert response.json()["status"] == "down"
    assert checks["database"]["status"] == "up"
    assert checks["cache"]["status"] == "down"
    assert checks["broker"]["status"] == "down"
    assert "127.0.0.1:1" not in response.content.decode()  # no connection details leak


def test_readyz_reports_a_missing_broker_folder_as_down(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone")}

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "down"


def test_readyz_is_ok_with_the_real_redis(client, settings, redis_url):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    settings.CELERY_BROKER_URL = redis_url

    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["cache"]["status"] == "up"
    assert response.json()["checks"]["broker"]["status"] == "up"
