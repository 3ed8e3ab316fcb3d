from django.apps import AppConfig


class LearningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tutor.learning"
    label = "tutor_learning"
    verbose_name = "Tutor: learning events"

    def ready(self) -> None:
        from tutor.learning import config  # noqa: F401  (runtime config keys register on import)
