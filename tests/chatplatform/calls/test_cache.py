import pytest
from django.core.cache import caches

from chatplatform.calls.cache import namespaced_cache


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_its_ttl_by_the_clock():
    clock = Clock()
    prompts = namespaced_cache("test-ttl", ttl=60, clock=clock)
    prompts.set("bot-1", "answer", "Hello {context}", token=prompts.token("bot-1"))

    clock.now += 59
    assert prompts.get("bot-1", "answer") == "Hello {context}"
    clock.now += 1
    assert prompts.get("bot-1", "answer") is None


@pytest.mark.django_db
def test_get_or_set_computes_once_until_the_namespace_is_invalidated():
    cache = namespaced_cache("test-get-or-set", ttl=60)
    computed: list[str] = []

    def compute() -> str:
        computed.append("x")
        return f"value {len(computed)}"

    assert cache.get_or_set("bot-1", "k", compute) == "value 1"
    assert cache.get_or_set("bot-1", "k", compute) == "value 1"
    cache.invalidate("bot-2")
    assert cache.get_or_set("bot-1", "k", compute) == "value 1"
    cache.invalidate("bot-1")
    assert cache.get_or_set("bot-1", "k", compute) == "value 2"


@pytest.mark.django_db
def test_a_value_read_before_an_invalidation_is_never_served():
    cache = namespaced_cache("test-race", ttl=60)
    token = cache.token("bot-1")  # a reader starts reading the rows...
    cache.invalidate("bot-1")  # ...a writer changes them...
    cache.set("bot-1", "k", "old rows", token=token)  # ...and the reader stores what it read

    assert cache.get("bot-1", "k") is None


@pytest.mark.django_db(transaction=True)
def test_two_processes_over_one_redis_see_each_others_invalidations(redis_cache, settings):
    settings.CACHES = {
        **settings.CACHES,
        "other": {**settings.CACHES["default"]},
    }
    # Two cache objects with their own connections: as two processes would have.
    here = namespaced_cache("test-shared", ttl=60)
    there = namespaced_cache("test-shared", ttl=60, alias="other")
    assert caches["default"] is not caches["other"]
    here.set("bot-1", "k", "v1", token=here.token("bot-1"))
    assert there.get("bot-1", "k") == "v1"

    there.invalidate("bot-1")

    assert here.get("bot-1", "k") is None


@pytest.mark.django_db(transaction=True)
async def test_the_event_loop_reads_an_entry_in_one_round_trip(redis_cache):
    from asgiref.sync import sync_to_async

    cache = namespaced_cache("test-async", ttl=60)
    await sync_to_async(lambda: cache.set("bot-1", "k", "v", token=cache.token("bot-1")))()

    assert await cache.aget("bot-1", "k") == "v"
    await sync_to_async(cache.invalidate)("bot-1")
    assert await cache.aget("bot-1", "k") is None


def test_an_unreadable_cache_is_a_miss(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    cache = namespaced_cache("test-down", ttl=60)

    assert cache.get_or_set("bot-1", "k", lambda: "computed") == "computed"
    assert cache.get("bot-1", "k") is None
