"""Tracking URLs from carrier templates, for APIs that give a tracking number but no URL."""

from collections.abc import Mapping
from urllib.parse import quote

# Used when the integration has no template for a carrier; staff can override each in admin.
DEFAULT_TRACKING_URLS = {
    "gls": "https://gls-group.com/DK/da/find-pakke?match={tracking_number}",
    "postnord": "https://tracking.postnord.com/dk/?id={tracking_number}",
    "dhl": "https://www.dhl.com/dk-da/home/tracking.html?tracking-id={tracking_number}",
    "dao": "https://www.dao.as/privat/find-din-pakke?stregkode={tracking_number}",
    "bring": "https://tracking.bring.dk/tracking/{tracking_number}",
    "ups": "https://www.ups.com/track?tracknum={tracking_number}",
}


def tracking_url(
    carrier: str, tracking_number: str, templates: Mapping[str, str] | None = None, given: str = ""
) -> str:
    """The URL the API gave, else one built from the carrier's template, else empty."""
    if given or not tracking_number:
        return given
    wanted = carrier.strip().lower()
    merged = {**DEFAULT_TRACKING_URLS, **{name.lower(): url for name, url in (templates or {}).items()}}
    template = merged.get(wanted) or next(
        (url for name, url in merged.items() if name and name in wanted), ""
    )
    return template.replace("{tracking_number}", quote(tracking_number, safe="")) if template else ""
