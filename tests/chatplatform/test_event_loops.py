import pytest
from django.core.cache import cache

from chatplatform.event_loops import cache_aget

VALUES = {"text": "Du svarer på dansk.", "number": 42, "mapping": {"flow": "default", "n": [1, 2]}}


@pytest.fixture
def file_cache(settings, tmp_path):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path),
        }
    }


@pytest.mark.parametrize("backend", ["redis_cache", "file_cache", None])
async def test_it_reads_what_the_cache_wrote(backend, request):
    if backend:
        request.getfixturevalue(backend)
    for key, value in VALUES.items():
        cache.set(f"async-read:{key}", value, 60)

    assert {key: await cache_aget(f"async-read:{key}") for key in VALUES} == VALUES
    assert await cache_aget("async-read:missing", "default") == "default"
