import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from conversations.chatbot_io import chatbots_export


def file_write(path: Path, text: str, *, private: bool) -> None:
    """Write `text` to `path`; a private file is owner-only before its first byte is written.

    Creating it with the mode (an existing file keeps its own, so that is narrowed too) leaves
    no moment, not even after a failed write, in which other users can read the secrets.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        if private:
            os.fchmod(file.fileno(), 0o600)
        file.write(text)


class Command(BaseCommand):
    help = "Write every chatbot's settings as JSON or CSV. Secrets are left out unless asked for."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--output", type=Path, help="Write to this file instead of standard output.")
        parser.add_argument(
            "--include-secrets",
            action="store_true",
            help="Include decrypted secrets (the Pinecone API key). The file is made readable by "
            "its owner only; keep it safe.",
        )

    def handle(self, *args, format: str, output: Path | None, include_secrets: bool, **options):
        text = chatbots_export(fmt=format, include_secrets=include_secrets)
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            file_write(output, text, private=include_secrets)
        except OSError as exc:
            raise CommandError(f"Could not write {output}: {exc.strerror or exc}") from exc
        self.stderr.write(f"Wrote {output}")
