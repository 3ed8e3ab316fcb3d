"""X-Forwarded-For and X-Forwarded-Proto count only from a trusted proxy (chatplatform/proxies.py)."""

import pytest

from chatplatform.asgi import application
from chatplatform.proxies import ForwardedHeadersMiddleware

FORGED = [(b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-proto", b"https"), (b"host", b"shop")]


async def scope_seen(scope: dict, trusted_proxies: list[str]) -> dict:
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    await ForwardedHeadersMiddleware(app, trusted_proxies)(scope, None, None)
    return seen


@pytest.mark.parametrize("kind", ["http", "websocket"])
async def test_forwarded_headers_from_an_untrusted_peer_change_nothing_and_are_dropped(kind):
    scope = {"type": kind, "scheme": "http", "client": ["192.0.2.7", 5000], "headers": FORGED}

    seen = await scope_seen(scope, trusted_proxies=["10.0.0.0/8"])

    assert seen["client"] == ["192.0.2.7", 5000]
    assert seen["scheme"] == "http"
    assert seen["headers"] == [(b"host", b"shop")]


async def test_nothing_is_trusted_by_default():
    seen = await scope_seen({"type": "http", "client": ["127.0.0.1", 5000], "headers": FORGED}, [])

    assert seen["client"] == ["127.0.0.1", 5000]
    assert seen["headers"] == [(b"host", b"shop")]


@pytest.mark.parametrize(("kind", "scheme"), [("http", "https"), ("websocket", "wss")])
async def test_a_trusted_proxy_gives_the_clients_address_and_scheme(kind, scheme):
    scope = {"type": kind, "scheme": "http", "client": ["10.1.2.3", 5000], "headers": FORGED}

    seen = await scope_seen(scope, trusted_proxies=["10.0.0.0/8"])

    assert seen["client"] == ["203.0.113.9", 0]
    assert seen["scheme"] == scheme


async def test_the_client_is_the_nearest_address_that_is_not_a_trusted_proxy():
    # The visitor may send its own X-Forwarded-For; each proxy appends what it saw.
    headers = [(b"X-Forwarded-For", b"198.51.100.66, 203.0.113.9, 10.0.0.2")]
    scope = {"type": "http", "client": ["10.0.0.1", 5000], "headers": headers}

    seen = await scope_seen(scope, trusted_proxies=["10.0.0.0/8"])

    assert seen["client"] == ["203.0.113.9", 0]


async def test_a_garbled_forwarded_address_leaves_the_last_good_one():
    headers = [(b"x-forwarded-for", b"not-an-address, 10.0.0.2")]
    scope = {"type": "http", "client": ["10.0.0.1", 5000], "headers": headers}

    seen = await scope_seen(scope, trusted_proxies=["10.0.0.0/8"])

    assert seen["client"] == ["10.0.0.2", 0]


async def test_other_scopes_pass_untouched():
    scope = {"type": "lifespan"}

    assert await scope_seen(scope, trusted_proxies=["10.0.0.0/8"]) == {"type": "lifespan"}


def test_the_platform_applies_it_to_http_and_websockets():
    assert isinstance(application, ForwardedHeadersMiddleware)
