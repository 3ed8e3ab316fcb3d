"""The client's address and scheme behind a reverse proxy, believed only from a trusted proxy.

Per-address limits (chat messages, image uploads, order look-ups) key on the ASGI scope's
`client`, which Django passes on as REMOTE_ADDR. X-Forwarded-For can say anything, so it replaces
the peer's address only when the peer is in TRUSTED_PROXIES; from anyone else the X-Forwarded-*
headers are dropped, so that nothing behind this middleware (Django's SECURE_PROXY_SSL_HEADER
included) reads them.
"""

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any

FORWARDED_PREFIX = b"x-forwarded-"


class ForwardedHeadersMiddleware:
    """ASGI middleware for HTTP and websocket scopes; other scopes pass through untouched."""

    def __init__(self, app: Any, trusted_proxies: Iterable[str]) -> None:
        self.app = app
        self.networks = [ip_network(proxy, strict=False) for proxy in trusted_proxies]

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] in {"http", "websocket"}:
            scope = self.scope_with_client(scope)
        return await self.app(scope, receive, send)

    def trusted(self, address: IPv4Address | IPv6Address) -> bool:
        return any(address in network for network in self.networks)

    def scope_with_client(self, scope: dict) -> dict:
        headers = [(name.lower(), value) for name, value in scope.get("headers", [])]
        peer = (scope.get("client") or [None])[0]
        if not self.is_trusted_host(peer):
            kept = [(name, value) for name, value in headers if not name.startswith(FORWARDED_PREFIX)]
            return {**scope, "headers": kept}

        forwarded_for = [
            entry.strip()
            for name, value in headers
            if name == b"x-forwarded-for"
            for entry in value.decode("latin-1").split(",")
        ]
        client = peer
        # Each proxy appends the address it received from: walk back from the nearest one past
        # the trusted proxies; the first other address is the client's.
        for entry in reversed(forwarded_for):
            try:
                address = ip_address(entry)
            except ValueError:
                break
            client = str(address)
            if not self.trusted(address):
                break
        scope = {**scope, "client": [client, 0]}

        protos = [
            value.decode("latin-1").split(",")[-1].strip().lower()
            for name, value in headers
            if name == b"x-forwarded-proto"
        ]
        if protos and protos[-1] in {"http", "https"}:
            secure = protos[-1] == "https"
            if scope["type"] == "websocket":
                scope["scheme"] = "wss" if secure else "ws"
            else:
                scope["scheme"] = "https" if secure else "http"
        return scope

    def is_trusted_host(self, host: str | None) -> bool:
        try:
            return host is not None and self.trusted(ip_address(host))
        except ValueError:
            return False
