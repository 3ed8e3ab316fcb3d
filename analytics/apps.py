from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"

    def ready(self) -> None:
        # Hooks into the chat (which does not import this app), the runtime config key, the
        # retention cleaner and the records' admin; the jobs app finds the job kinds itself.
        from analytics.config import config_keys_register
        from analytics.receivers import receivers_connect
        from analytics.records_admin import records_admin_register
        from analytics.retention import cleaners_register

        config_keys_register()
        receivers_connect()
        cleaners_register()
        records_admin_register()
