import time

import pytest

from conversations import rate_limits
from conversations.rate_limits import RateLimiter, ip_rate_allows


def test_a_connection_may_send_its_limit_within_the_window():
    limiter = RateLimiter(limit=2, window_seconds=60)

    assert [limiter.allows(), limiter.allows(), limiter.allows()] == [True, True, False]


async def test_an_ip_may_send_its_limit_per_minute_without_redis(settings):
    settings.REDIS_URL = ""
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 2

    results = [await ip_rate_allows("203.0.113.7") for _ in range(3)]

    assert results == [True, True, False]
    assert await ip_rate_allows("203.0.113.8")


async def test_the_count_starts_again_in_the_next_minute(settings, monkeypatch):
    settings.REDIS_URL = ""
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 1
    now = 1_800_000_000.0
    monkeypatch.setattr(time, "time", lambda: now)
    assert await ip_rate_allows("203.0.113.7")
    assert not await ip_rate_allows("203.0.113.7")

    now += 60

    assert await ip_rate_allows("203.0.113.7")


async def test_with_redis_every_process_shares_the_count_and_it_expires(settings, redis_url):
    import redis.asyncio

    settings.REDIS_URL = redis_url
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 2
    ip = "198.51.100.23"
    window = int(time.time() // 60)
    key = f"chatplatform:chat-rate:{ip}:{window}"
    other_process = redis.asyncio.from_url(redis_url)
    try:
        await other_process.delete(key)
        await other_process.incr(key)  # another web process counted one message

        assert [await ip_rate_allows(ip), await ip_rate_allows(ip)] == [True, False]
        assert 0 < await other_process.ttl(key) <= 120
    finally:
        await other_process.delete(key)
        await other_process.aclose()


async def test_an_unreachable_redis_lets_messages_through(settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 1

    assert await ip_rate_allows("203.0.113.7")
    assert await ip_rate_allows("203.0.113.7")
    assert "Redis unavailable" in caplog.text


@pytest.fixture(autouse=True)
def _fresh_counts():
    rate_limits.local_ip_counts_clear()
