from django.core.management.base import BaseCommand, CommandError

from conversations.demo import demo_chatbot_load


class Command(BaseCommand):
    help = "Create or update the demo chatbot 'nordvin' (idempotent)."

    def handle(self, *args, **options):
        report = demo_chatbot_load()
        if report.errors:
            raise CommandError("; ".join(str(error) for error in report.errors))
        self.stdout.write(f"Demo chatbot nordvin: {report.summary()}")
