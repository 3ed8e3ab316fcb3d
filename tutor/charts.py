"""Small SVG bar charts drawn on the server for the tutor's admin page: no script to load, and
the figures are in the page's text for screen readers and tests alike."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

_BAR = "#417690"  # the admin's own blue
_WIDTH = 640
_ROW = 22
_LABEL_WIDTH = 160


def bar_chart(title: str, items: list[tuple[str, float]], *, unit: str = "") -> SafeString:
    """Horizontal bars, one per (label, value), labelled with their values."""
    top = max((value for _, value in items), default=0) or 1
    space = _WIDTH - _LABEL_WIDTH - 70
    rows = []
    for n, (label, value) in enumerate(items):
        y = 5 + n * _ROW
        width = space * value / top
        rows.append(
            (
                f"{_LABEL_WIDTH - 6}", f"{y + 14}", label,
                f"{_LABEL_WIDTH}", f"{y + 2}", f"{width:.1f}", f"{_ROW - 6}", _BAR, label, _fmt(value), unit,
                f"{_LABEL_WIDTH + width + 4:.1f}", f"{y + 14}", _fmt(value), unit,
            )
        )  # fmt: skip
    body = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}{}</title></rect>'
        '<text x="{}" y="{}" font-size="12">{}{}</text>',
        rows,
    )
    return _figure(title, title, f"{max(1, len(items)) * _ROW + 10}", body)


def column_chart(title: str, items: list[tuple[str, float]]) -> SafeString:
    """Vertical columns over time (one per day), the first and last day labelled."""
    base = 120
    width = max(_WIDTH, len(items) * 8)
    step = width / max(1, len(items))
    top = max((value for _, value in items), default=0) or 1
    columns = []
    for n, (label, value) in enumerate(items):
        bar = 100 * value / top
        x, y, w = f"{n * step + 1:.1f}", f"{base - bar:.1f}", f"{max(1.0, step - 2):.1f}"
        columns.append((x, y, w, f"{bar:.1f}", _BAR, label, _fmt(value)))
    body = format_html_join(
        "", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>', columns
    )
    if items:
        body += format_html(
            '<text x="0" y="{}" font-size="11">{}</text>'
            '<text x="{}" y="{}" text-anchor="end" font-size="11">{}</text>',
            f"{base + 15}", items[0][0], f"{width}", f"{base + 15}", items[-1][0],
        )  # fmt: skip
    return _figure(f"{title} (highest: {_fmt(top)})", title, "140", body, width=width)


def _figure(caption: str, label: str, height: str, body: SafeString, *, width: int = _WIDTH) -> SafeString:
    return format_html(
        '<figure class="tutor-chart"><figcaption>{}</figcaption>'
        '<svg role="img" aria-label="{}" width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">{}</svg>'
        "</figure>",
        caption, label, f"{width}", height, body,
    )  # fmt: skip


def _fmt(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"
