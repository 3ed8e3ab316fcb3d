from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from conversations.chatbot_io import ImportFileError, chatbots_import, read_rows


class Command(BaseCommand):
    help = (
        "Create or update chatbots from a JSON, CSV or SQL file (the old platform's INSERT INTO "
        "chatbot_settings statements, read, never executed). Idempotent. Nothing is written when "
        "any row or statement is bad; every one is reported with its line."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A .json, .csv or .sql file.")
        parser.add_argument("--dry-run", action="store_true", help="Show the changes, write nothing.")

    def handle(self, *args, file: Path, dry_run: bool, **options):
        try:
            rows = read_rows(file)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        report = chatbots_import(rows=rows, dry_run=dry_run)
        if report.errors:
            for error in report.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(report.errors)} bad row(s) in {file}; nothing was written.")
        for change in report.changes:
            if change.action != "unchanged" or options["verbosity"] > 1:
                self.stdout.write(str(change))
        prefix = "Dry run, nothing written: " if dry_run else "Imported: "
        self.stdout.write(self.style.SUCCESS(prefix + report.summary()))
