"""Settings are read once at start-up, so each case runs Django in a subprocess with its own env."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.conf import settings
from chatplatform.celery import app
print(json.dumps({
    "db_engine": settings.DATABASES["default"]["ENGINE"],
    "db_options": settings.DATABASES["default"].get("OPTIONS", {}),
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "broker": app.conf.broker_url.split("://")[0],
    "ai_provider": settings.AI_PROVIDER,
    "debug": settings.DEBUG,
}))
"""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "SYSTEMROOT"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(DJANGO_SETTINGS_MODULE="chatplatform.settings", VAR_DIR=str(tmp_path / "var"))
    env.update(extra)
    return env


def run_probe(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_nothing_set_it_runs_on_embedded_defaults(tmp_path):
    config = run_probe(clean_env(tmp_path))

    assert config["db_engine"] == "django.db.backends.sqlite3"
    assert config["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert config["channel_layer"] == "channels.layers.InMemoryChannelLayer"
    assert config["broker"] == "filesystem"
    assert config["ai_provider"] == "local"
    assert (tmp_path / "var" / "field_encryption.key").exists()


def test_empty_values_from_an_env_file_count_as_unset(tmp_path):
    env = clean_env(tmp_path, DATABASE_URL="", REDIS_URL="", AI_PROVIDER="", FIELD_ENCRYPTION_KEY="")

    config = run_probe(env)

    assert config["db_engine"] == "django.db.backends.sqlite3"
    assert config["broker"] == "filesystem"


def test_with_service_urls_it_uses_postgres_pool_and_redis(tmp_path):
    env = clean_env(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/chatplatform",
        REDIS_URL="redis://127.0.0.1:6379/0",
        OPENAI_API_KEY="sk-test",
    )

    config = run_probe(env)

    assert config["db_engine"] == "django.db.backends.postgresql"
    assert config["db_options"]["pool"]["max_size"] >= 1
    assert config["conn_max_age"] == 0
    assert config["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert config["channel_layer"] == "channels_redis.core.RedisChannelLayer"
    assert config["broker"] == "redis"
    assert config["ai_provider"] == "openai"


def test_it_connects_to_the_real_postgres_and_redis(tmp_path, postgres_url, redis_url):
    script = (
        "import json, django; django.setup()\n"
        "from chatplatform.health import run_checks\n"
        "print(json.dumps({r.name: r.up for r in run_checks()}))"
    )
    env = clean_env(tmp_path, DATABASE_URL=postgres_url.rsplit("/", 1)[0] + "/postgres", REDIS_URL=redis_url)

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "database": True,
        "cache": True,
        "broker": True,
    }


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        tmp_path,
        DJANGO_DEBUG="False",
        DJANGO_SECRET_KEY="x" * 20 + "-production-secret-key-for-the-deploy-check-9f3k2",
        DJANGO_ALLOWED_HOSTS="chat.example.com",
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        **extra,
    )


def test_check_deploy_reports_nothing_with_the_production_variables(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEY"])
def test_production_refuses_to_start_without_its_secrets(tmp_path, missing):
    env = production_env(tmp_path)
    env[missing] = ""

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


@pytest.mark.parametrize(
    "keys",
    [
        "not-a-fernet-key-but-secret-text-4711",
        Fernet.generate_key().decode() + ",not-a-fernet-key-but-secret-text-4711",
    ],
    ids=["one_invalid_key", "a_valid_key_then_an_invalid_one"],
)
def test_check_deploy_refuses_an_invalid_encryption_key_without_echoing_it(tmp_path, keys):
    env = production_env(tmp_path)
    env["FIELD_ENCRYPTION_KEY"] = keys

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY" in result.stderr
    assert "is not a valid Fernet key" in result.stderr
    for key in keys.split(","):
        assert key not in result.stderr + result.stdout


def test_it_refuses_to_start_with_a_trusted_proxy_that_is_not_an_address(tmp_path):
    env = clean_env(tmp_path, TRUSTED_PROXIES="10.0.0.0/8, proxy.internal")

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'proxy.internal' is not an address or network" in result.stderr


@pytest.mark.parametrize(
    ("uploads", "ceiling"),
    [({}, 21 * 1024 * 1024), ({"IMAGE_MAX_UPLOAD_BYTES": str(40 * 1024 * 1024)}, 41 * 1024 * 1024)],
)
def test_the_body_ceiling_is_the_largest_upload_plus_room_for_the_framing(tmp_path, uploads, ceiling):
    probe = (
        "import django; django.setup(); from django.conf import settings; print(settings.HTTP_MAX_BODY_BYTES)"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=clean_env(tmp_path, **uploads),
        capture_output=True,
        text=True,
        check=True,
    )

    assert int(result.stdout.strip().splitlines()[-1]) == ceiling
