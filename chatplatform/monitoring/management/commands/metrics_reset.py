from django.core.management.base import BaseCommand

from chatplatform.monitoring.process_hooks import metrics_folder_reset


class Command(BaseCommand):
    help = "Empty the Prometheus multiprocess folder; run before web, worker and beat start."

    def handle(self, *args, **options) -> None:
        metrics_folder_reset()
