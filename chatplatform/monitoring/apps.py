from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chatplatform.monitoring"
    label = "monitoring"
    verbose_name = "Health and metrics"

    def ready(self) -> None:
        from chatplatform.monitoring import process_hooks, token_usage

        process_hooks.install()
        token_usage.subscribe()
