"""Which website origins may use a chatbot: one rule for the websocket and for uploads."""

from urllib.parse import urlsplit


def _normalised(origin: str) -> str:
    return origin.rstrip("/").lower()


def origin_listed(origin: str | None, allowed: list[str]) -> bool:
    """The origin is one of the chatbot's allowed origins."""
    return bool(origin) and _normalised(origin) in {_normalised(entry) for entry in allowed}


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """A listed origin, or with an empty list the platform's own host.

    Browsers always send Origin on cross-site requests; without one the caller is not a browser,
    which an origin check cannot constrain anyway.
    """
    if not origin:
        return True
    if allowed:
        return origin_listed(origin, allowed)
    return bool(host) and urlsplit(_normalised(origin)).netloc == host.lower()
