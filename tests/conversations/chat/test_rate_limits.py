import asyncio
import time

import pytest

from conversations.chat import rate_limits
from conversations.chat.rate_limits import RateLimiter, ip_rate_allows
from tests.waiting import until


async def synced() -> None:
    """Until this loop's counts are in Redis and the totals read back."""
    counts = rate_limits._per_loop.get()
    await asyncio.wait_for(counts.syncing, timeout=5)


def test_a_connection_may_send_its_limit_within_the_window():
    limiter = RateLimiter(limit=2, window_seconds=60)

    assert [limiter.allows(), limiter.allows(), limiter.allows()] == [True, True, False]


async def test_an_ip_may_send_its_limit_per_minute_without_redis(settings):
    settings.REDIS_URL = ""
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 2

    assert [ip_rate_allows("203.0.113.7") for _ in range(3)] == [True, True, False]
    assert ip_rate_allows("203.0.113.8")


async def test_the_count_starts_again_in_the_next_minute(settings, monkeypatch):
    settings.REDIS_URL = ""
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 1
    now = 1_800_000_000.0
    monkeypatch.setattr(time, "time", lambda: now)
    assert ip_rate_allows("203.0.113.7")
    assert not ip_rate_allows("203.0.113.7")

    now += 60

    assert ip_rate_allows("203.0.113.7")


async def test_with_redis_web_processes_share_the_count(settings, redis_url, monkeypatch):
    import redis.asyncio

    settings.REDIS_URL = redis_url
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 3
    now = (time.time() // 60) * 60 + 30  # the middle of a minute: no new window mid-test
    monkeypatch.setattr(time, "time", lambda: now)
    ip = "198.51.100.23"
    key = f"chatplatform:chat-rate:{ip}:{int(now // 60)}"
    other_process = redis.asyncio.from_url(redis_url)
    try:
        await other_process.delete(key)
        await other_process.incrby(key, 2)  # other web processes admitted two messages

        assert ip_rate_allows(ip)  # not known here yet: admitted, and counted in Redis
        await synced()

        assert int(await other_process.get(key)) == 3
        assert 0 < await other_process.ttl(key) <= 120
        assert not ip_rate_allows(ip)
    finally:
        await other_process.delete(key)
        await other_process.aclose()


async def test_an_unreachable_redis_leaves_the_count_to_this_process(settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 2

    assert ip_rate_allows("203.0.113.7")
    await until(lambda: "Redis unavailable" in caplog.text, timeout=10)

    assert [ip_rate_allows("203.0.113.7"), ip_rate_allows("203.0.113.7")] == [True, False]


@pytest.fixture(autouse=True)
def _fresh_counts():
    rate_limits.local_ip_counts_clear()
