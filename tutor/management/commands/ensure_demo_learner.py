from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from tutor.learners import DEMO_LEARNER, learner_create


class Command(BaseCommand):
    help = f"Create the tutor's demo learner '{DEMO_LEARNER}' if it does not exist, and say how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="The port the web process serves on.")

    def handle(self, *args, **options):
        base = f"http://127.0.0.1:{options['port']}"
        if get_user_model().objects.filter(username=DEMO_LEARNER).exists():
            self.stdout.write(
                f"Tutor demo learner '{DEMO_LEARNER}' exists (its password was shown when it was made; "
                "staff can set a new one in the admin)."
            )
            shown = "<password>"
        else:
            _, shown = learner_create(username=DEMO_LEARNER)
            self.stdout.write(
                self.style.WARNING(
                    f"Created tutor demo learner '{DEMO_LEARNER}' with password: {shown}\n"
                    "It is shown only this once."
                )
            )
        self.stdout.write(
            f"Log in to the tutor at {base}/tutor/, or get an API token:\n"
            f"  curl -X POST {base}/api/v1/auth/token/ -H 'Content-Type: application/json' "
            f'-d \'{{"username": "{DEMO_LEARNER}", "password": "{shown}"}}\'\n'
            "  then send 'Authorization: Bearer <token>' to /api/v1/tutor/sessions/."
        )
