"""The tutor end to end with the local provider: a 50-page PDF through upload, extraction,
chunking, embedding, analysis and a 10-question quiz; then the embedding queue's throughput in
chunks per second. See bench/README.md, "bench/tutor.py"."""

import argparse
import io
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "data" / "tutor"
RESULTS = ROOT / "bench" / "results"
LINES_PER_PAGE = 46
CHARS_PER_LINE = 92


# --- the document ----------------------------------------------------------------------------


def source_paragraphs() -> list[str]:
    """Paragraphs of the sample study texts (plain text and Markdown), markup removed."""
    paragraphs = []
    for name in ("photosynthesis.txt", "statistics.md"):
        text = (SAMPLES / name).read_text(encoding="utf-8")
        text = re.sub(r"[*_`#]+", "", text)
        for block in re.split(r"\n\s*\n", text):
            block = " ".join(block.split())
            if len(block) > 80:
                paragraphs.append(block)
    if not paragraphs:
        raise SystemExit(f"No sample texts found in {SAMPLES}.")
    return paragraphs


def wrapped(text: str) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > CHARS_PER_LINE:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines


def pdf_pages_text(pages: int) -> list[list[str]]:
    """Each page's lines: a chapter heading and the sample paragraphs in a rotating order."""
    paragraphs = source_paragraphs()
    out = []
    cursor = 0
    for page in range(1, pages + 1):
        lines = [f"Chapter {page}: study notes, part {page}", ""]
        while len(lines) < LINES_PER_PAGE:
            paragraph = paragraphs[cursor % len(paragraphs)]
            cursor += 1
            lines += [*wrapped(paragraph), ""]
        out.append(lines[:LINES_PER_PAGE])
    return out


def _pdf_string(text: str) -> bytes:
    data = text.encode("cp1252", errors="replace")
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_build(pages: int) -> bytes:
    """A text PDF of `pages` letter pages in Helvetica, written with pypdf."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    for lines in pdf_pages_text(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        body = b"BT /F1 10 Tf 14 TL 54 740 Td " + b" ".join(_pdf_string(line) + b" Tj T*" for line in lines)
        stream = DecodedStreamObject()
        stream.set_data(body + b" ET")
        page.replace_contents(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- the run ---------------------------------------------------------------------------------


def phase(timings: dict, name: str):
    class _Timer:
        def __enter__(self):
            self.started = time.perf_counter()

        def __exit__(self, *exc):
            timings[name] = round(time.perf_counter() - self.started, 3)

    return _Timer()


def pipeline_run(pdf: bytes, run: int) -> dict:
    """One document from upload to quiz; the jobs' bodies run in this process, one after the
    other, as one worker would run them."""
    from django.contrib.auth import get_user_model

    from tutor.content import services as content
    from tutor.content.drafts import QUESTION_TYPES
    from tutor.documents.services import IncomingFile, document_process, documents_upload
    from tutor.embeddings.queue import embedding_queue_run
    from tutor.models import Chunk, StudySession

    learner = get_user_model().objects.create_user(f"bench-{run}-{secrets.token_hex(3)}")
    session = StudySession.objects.create(learner=learner, title=f"Bench run {run}")
    timings: dict = {}
    started = time.perf_counter()
    with phase(timings, "upload"):
        [result] = documents_upload(
            session=session,
            files=[IncomingFile(filename="study-notes.pdf", data=pdf, declared_type="application/pdf")],
            enqueue=False,
        )
    with phase(timings, "extract_and_chunk"):
        document = document_process(document_id=result.document.pk)
    if document.status != "ready":
        raise SystemExit(f"The document failed: {document.error_code} {document.error_message}")
    chunks = Chunk.objects.filter(document=document).count()
    with phase(timings, "embed"):
        queue = embedding_queue_run(budget_seconds=None)
    with phase(timings, "analysis"):
        analysis = content.analysis_generate(session=session, learner=learner)
    with phase(timings, "quiz"):
        quiz = content.quiz_generate(
            session=session,
            learner=learner,
            num_questions=10,
            difficulty="medium",
            question_types=list(QUESTION_TYPES),
        )
    timings["total"] = round(time.perf_counter() - started, 3)
    return {
        "timings_s": timings,
        "pages": document.pages,
        "chunks": chunks,
        "embedded": queue.completed,
        "concepts": analysis.concepts.count(),
        "questions": quiz.questions.count(),
    }


def throughput_run(count: int) -> dict:
    """`count` fresh chunks (texts of the benchmark document, each made unique) through the
    embedding queue; chunks per second over the whole queue run."""
    from django.contrib.auth import get_user_model

    from tutor.embeddings.queue import embedding_queue_run
    from tutor.models import Chunk, Document, StudySession

    texts = list(Chunk.objects.values_list("text", flat=True)[:200]) or ["Photosynthesis makes glucose."]
    learner = get_user_model().objects.create_user(f"bench-queue-{secrets.token_hex(3)}")
    session = StudySession.objects.create(learner=learner, title="Embedding queue")
    document = Document.objects.create(
        session=session,
        filename="queue.txt",
        mime_type="text/plain",
        kind="txt",
        size_bytes=0,
        checksum=secrets.token_hex(32),
        status="ready",
        progress=100,
    )
    Chunk.objects.bulk_create(
        Chunk(document=document, session=session, position=n, text=f"{texts[n % len(texts)]} ({n})")
        for n in range(count)
    )
    started = time.perf_counter()
    queue = embedding_queue_run(budget_seconds=None)
    seconds = time.perf_counter() - started
    return {
        "chunks": count,
        "completed": queue.completed,
        "batches": queue.batches,
        "seconds": round(seconds, 3),
        "chunks_per_second": round(queue.completed / seconds, 1),
    }


def machine() -> dict:
    cpu = ""
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        # The machine is shared: the load says how much else ran at the same time.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="pipeline runs (each a new session)")
    parser.add_argument("--throughput-chunks", type=int, default=2000)
    parser.add_argument(
        "--postgres", default="", help="e.g. postgres://postgres@127.0.0.1:5432 (default: SQLite)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and media directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-tutor-"))
    database = ""
    if args.postgres:
        import psycopg

        database = f"bench_tutor_{secrets.token_hex(4)}"
        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        database_url = f"{args.postgres}/{database}"
    else:
        database_url = f"sqlite:///{workdir / 'db.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="chatplatform.settings",
        DATABASE_URL=database_url,
        VAR_DIR=str(workdir / "var"),
        AI_PROVIDER="local",
        LOG_LEVEL="WARNING",
        CELERY_BROKER_URL="memory://",
    )
    os.environ.pop("OPENAI_API_KEY", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        pdf = pdf_build(args.pages)
        built_in = time.perf_counter() - started
        runs = [pipeline_run(pdf, run) for run in range(1, args.runs + 1)]
        totals = [run["timings_s"]["total"] for run in runs]
        figures = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "database": "postgresql" if args.postgres else "sqlite",
            "pdf": {"pages": args.pages, "bytes": len(pdf), "build_s": round(built_in, 3)},
            "runs": runs,
            "total_s": {"median": round(statistics.median(totals), 3), "max": round(max(totals), 3)},
            "embedding_queue": throughput_run(args.throughput_chunks),
        }
        print(json.dumps(figures, indent=2))
        print("target (< 15 s end to end):", "met" if max(totals) < 15 else "NOT met")
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"tutor-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
        out.write_text(json.dumps(figures, indent=2))
        print(f"written to {out.relative_to(ROOT)}")
    finally:
        from django.db import connections

        from chatplatform.telemetry.recorder import recorder

        recorder.flush_now()  # the call records, before their database goes
        connections.close_all()
        if args.keep:
            print(f"kept {workdir}" + (f" and database {database}" if database else ""))
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            if database:
                import psycopg

                with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
