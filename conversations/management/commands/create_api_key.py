from django.core.management.base import BaseCommand, CommandError

from chatplatform.errors import ApplicationError
from conversations.services import chatbot_api_key_create


class Command(BaseCommand):
    help = "Create an integration API key for one chatbot and print it once."

    def add_arguments(self, parser):
        parser.add_argument("chatbot_id")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'ERP sync'.")

    def handle(self, *args, chatbot_id: str, name: str, **options):
        try:
            _, key = chatbot_api_key_create(chatbot_id=chatbot_id, name=name)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"API key '{name}' for {chatbot_id}; it is shown only this once:")
        self.stdout.write(key)
