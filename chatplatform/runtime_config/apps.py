from django.apps import AppConfig


class RuntimeConfigConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chatplatform.runtime_config"
    label = "runtime_config"
    verbose_name = "Runtime config"

    def ready(self) -> None:
        # The platform's own keys; other apps register theirs from their own ready().
        from chatplatform.runtime_config import platform_keys  # noqa: F401
