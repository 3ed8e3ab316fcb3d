from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from chatplatform.errors import ApplicationError
from tutor.learners import learner_create


class Command(BaseCommand):
    help = (
        "Create a tutor learner. The password is --password, or a generated one printed once. "
        "Learners get an API token from POST /api/v1/auth/token/."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", help="Leave out to generate one (printed once).")

    def handle(self, *args, username: str, password: str | None, **options):
        try:
            user, password_used = learner_create(username=username, password=password)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if password is None:
            self.stdout.write(
                self.style.WARNING(
                    f"Created learner '{user.username}' with password: {password_used}\n"
                    "It is shown only this once."
                )
            )
        else:
            self.stdout.write(f"Created learner '{user.username}'.")
