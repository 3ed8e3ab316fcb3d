from django.apps import AppConfig


class ChatplatformConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chatplatform"
    verbose_name = "Platform"
