"""A conversation's latency waterfall: each answer's phases (from its performance record) as bars
laid end to end in the order the pipeline runs them, drawn as SVG on the server (no script)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from analytics.models import ProcessingMetrics

# (field, label, colour) in pipeline order: routing, the image, retrieval or the order lookup,
# the prompt, the provider's time to first token, then the stream.
PHASES = [
    ("route_ms", "routing", "#6c8ebf"),
    ("image_ms", "image", "#b07cc6"),
    ("retrieve_ms", "retrieval", "#5aa469"),
    ("order_lookup_ms", "order lookup", "#d99a3e"),
    ("prompt_ms", "prompt", "#8c8c8c"),
    ("provider_ttft_ms", "provider first token", "#d35f5f"),
    ("stream_ms", "streaming", "#4fa3a5"),
]
ROW = 22
LABEL = 190
WIDTH = 720


def _phases(record: ProcessingMetrics) -> list[tuple[str, str, float, float]]:
    """(label, colour, start ms, duration ms) of the phases that ran."""
    out, at = [], 0.0
    for name, label, colour in PHASES:
        duration = getattr(record, name)
        if duration is not None and duration > 0:
            out.append((label, colour, at, duration))
            at += duration
    return out


def latency_waterfall(records: list[ProcessingMetrics]) -> SafeString:
    """An SVG with one row per answer; an empty note without records."""
    if not records:
        return format_html("<p>{}</p>", "No performance records for this conversation's answers.")
    rows = [(record, _phases(record)) for record in records]
    span = max([max(record.total_ms or 0, sum(p[3] for p in phases)) for record, phases in rows] + [1.0])
    scale = (WIDTH - LABEL - 10) / span
    height = ROW * (len(rows) + 2)
    parts = []
    for index, (record, phases) in enumerate(rows):
        y = ROW * index + 4
        title = f"{record.created_at:%H:%M:%S} {record.flow or '-'} {record.status}"
        parts.append(format_html('<text x="0" y="{}" font-size="11">{}</text>', y + 12, title))
        for label, colour, start, duration in phases:
            parts.append(
                format_html(
                    '<rect class="waterfall-phase" data-phase="{}" data-ms="{}" x="{}" y="{}" width="{}" '
                    'height="{}" fill="{}"><title>{}: {} ms</title></rect>',
                    label,
                    round(duration, 1),
                    round(LABEL + start * scale, 1),
                    y,
                    round(max(duration * scale, 1), 1),
                    ROW - 8,
                    colour,
                    label,
                    round(duration, 1),
                )
            )
        if record.ttft_ms is not None:
            x = round(LABEL + record.ttft_ms * scale, 1)
            parts.append(
                format_html(
                    '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#000" stroke-dasharray="2,2">'
                    "<title>first token sent: {} ms</title></line>",
                    x,
                    x,
                    y - 2,
                    y + ROW - 4,
                    round(record.ttft_ms, 1),
                )
            )
    legend_y = ROW * len(rows) + 14
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="10" height="10" fill="{}"></rect>'
        '<text x="{}" y="{}" font-size="11">{}</text>',
        (
            (LABEL + i * 75, legend_y, colour, LABEL + i * 75 + 13, legend_y + 9, label)
            for i, (_, label, colour) in enumerate(PHASES)
        ),
    )
    axis = format_html('<text x="0" y="{}" font-size="11">0 - {} ms</text>', legend_y + 9, round(span))
    body = mark_safe("".join(parts))  # noqa: S308  (each part escaped by format_html)
    return format_html(
        '<svg class="latency-waterfall" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
        'role="img" aria-label="Latency waterfall of the answers">{}{}{}</svg>',
        WIDTH,
        height,
        body,
        legend,
        axis,
    )


def conversation_waterfall(conversation_id) -> SafeString:
    records = list(
        ProcessingMetrics.objects.filter(conversation_id=conversation_id).order_by("created_at")[:200]
    )
    return latency_waterfall(records)
