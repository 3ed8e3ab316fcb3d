from django.apps import AppConfig


class JobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chatplatform.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from chatplatform.jobs import (
            kinds,  # noqa: F401  (registration on import)
            tasks,  # noqa: F401  (wake-ups are sent by task name)
        )

        # Each installed app declares its kinds (and retention cleaners) in a `jobs` module.
        autodiscover_modules("jobs")
