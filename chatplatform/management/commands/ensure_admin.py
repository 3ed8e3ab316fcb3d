import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the staff account 'admin' (or DJANGO_SUPERUSER_USERNAME) if it does not exist. "
        "Its password is DJANGO_SUPERUSER_PASSWORD, or a generated one printed once."
    )

    def handle(self, *args, **options):
        username = settings.SUPERUSER_USERNAME
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Admin account '{username}' exists.")
            return
        password = settings.SUPERUSER_PASSWORD or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        if settings.SUPERUSER_PASSWORD:
            self.stdout.write(f"Created admin account '{username}' with DJANGO_SUPERUSER_PASSWORD.")
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin account '{username}' with password: {password}\n"
                    "It is shown only this once; change it in the admin."
                )
            )
