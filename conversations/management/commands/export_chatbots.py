from pathlib import Path

from django.core.management.base import BaseCommand

from conversations.chatbot_io import chatbots_export


class Command(BaseCommand):
    help = "Write every chatbot's settings as JSON or CSV. Secrets are left out unless asked for."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--output", type=Path, help="Write to this file instead of standard output.")
        parser.add_argument(
            "--include-secrets",
            action="store_true",
            help="Include decrypted secrets (the Pinecone API key). Keep such a file safe.",
        )

    def handle(self, *args, format: str, output: Path | None, include_secrets: bool, **options):
        text = chatbots_export(fmt=format, include_secrets=include_secrets)
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        if include_secrets:
            output.chmod(0o600)
        self.stderr.write(f"Wrote {output}")
