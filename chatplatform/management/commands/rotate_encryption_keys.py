from django.core.management.base import BaseCommand, CommandError

from chatplatform.crypto import DecryptionError
from chatplatform.encrypted_columns import secrets_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEY. Put the new "
        "key first, keep the old ones after it, run this, then drop the old keys."
    )

    def handle(self, *args, **options):
        try:
            counts = secrets_rotate()
        except DecryptionError as exc:
            raise CommandError(f"{exc} Nothing was changed.") from exc
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} secret(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {sum(counts.values())} secret(s) re-encrypted."))
