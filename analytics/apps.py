from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"

    def ready(self) -> None:
        # Hooks into the chat (which does not import this app), the runtime config key, and the
        # retention cleaner; job kinds are found by the jobs app (`analytics/jobs.py`).
        from analytics.config import config_keys_register
        from analytics.receivers import receivers_connect
        from analytics.retention import cleaners_register

        config_keys_register()
        receivers_connect()
        cleaners_register()
