"""Documents for the pipeline's tests: real files, long Markdown and Word files built on the fly."""

import io
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data" / "knowledge"


def long_markdown(paragraphs: int, *, heading: str = "Wine guide", seed: str = "grape") -> str:
    """A document long enough for several chunks, with distinct sentences."""
    body = "\n\n".join(
        f"Paragraph {n} is about the {seed} number {n}. It grows on slope {n} near the river. "
        f"Harvest {n} happens in September when the {seed} {n} is ripe and sweet."
        for n in range(paragraphs)
    )
    return f"# {heading}\n\n{body}\n"


def docx_bytes(*blocks: tuple[str, str]) -> bytes:
    """A DOCX of (style, text) paragraphs; the style "table" adds a table of "a|b;c|d" rows."""
    from docx import Document

    document = Document()
    for style, text in blocks:
        if style == "table":
            rows = [row.split("|") for row in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        elif style.startswith("Heading"):
            document.add_heading(text, level=int(style.split()[-1]))
        else:
            document.add_paragraph(text, style=style or None)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
