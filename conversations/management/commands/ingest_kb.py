"""`manage.py ingest_kb CHATBOT FLOW PATH...`: load knowledge-base files in this process."""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from chatplatform.documents.sniffing import EXTENSIONS
from chatplatform.errors import ApplicationError
from conversations.knowledge.services import knowledge_document_load
from conversations.models import Flow
from conversations.selectors import chatbot_get

_BAR_WIDTH = 30


class _ProgressBar:
    """A one-line bar on stderr, redrawn in place: `[#####-----] 12/40 chunks  shipping.md`."""

    def __init__(self, stream, label: str) -> None:
        self.stream = stream
        self.label = label
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        filled = _BAR_WIDTH if total == 0 else round(_BAR_WIDTH * done / total)
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} chunks  {self.label}", ending="")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("")


class Command(BaseCommand):
    help = (
        "Store and ingest knowledge-base files (Markdown, text, PDF, DOCX, HTML) into a flow of a "
        "chatbot, synchronously. Folders are searched recursively. A file of the same name as an "
        "existing document of the flow replaces it."
    )

    def add_arguments(self, parser):
        parser.add_argument("chatbot", help="The chatbot's id, e.g. nordvin.")
        parser.add_argument("flow", choices=Flow.Name.values, help="The flow whose index receives the files.")
        parser.add_argument("paths", nargs="+", type=Path, help="Files or folders.")

    def handle(self, *args, **options):
        try:
            chatbot = chatbot_get(chatbot_id=options["chatbot"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        files, refused = self._files(options["paths"])
        failed = refused
        for path in files:
            progress = _ProgressBar(self.stderr, path.name)
            with path.open("rb") as handle:
                result = knowledge_document_load(
                    chatbot=chatbot,
                    flow=options["flow"],
                    uploaded_file=File(handle, name=path.name),
                    progress=progress,
                )
            progress.close()
            if result.outcome == "ready":
                self.stdout.write(f"{path}: ready ({result.document.chunk_count} chunks)")
            else:
                failed += 1
                self.stdout.write(f"{path}: failed: {result.error}")
        if failed:
            raise CommandError(f"{failed} of {len(files) + refused} file(s) failed.")
        self.stdout.write(self.style.SUCCESS(f"{len(files)} document(s) ready."))

    def _files(self, paths: list[Path]) -> tuple[list[Path], int]:
        """The files to load, in a stable order, and how many paths were refused already."""
        files: list[Path] = []
        refused = 0
        names: dict[str, Path] = {}
        for path in paths:
            if path.is_dir():
                found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)
            elif path.is_file():
                found = [path]
            else:
                self.stdout.write(f"{path}: failed: no such file or folder")
                refused += 1
                continue
            for file in found:
                # A document is identified by its file name within the flow.
                if file.name in names:
                    self.stdout.write(f"{file}: failed: same file name as {names[file.name]}")
                    refused += 1
                    continue
                names[file.name] = file
                files.append(file)
        return files, refused
