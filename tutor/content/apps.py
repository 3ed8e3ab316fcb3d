from django.apps import AppConfig


class ContentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tutor.content"
    label = "tutor_content"
    verbose_name = "Tutor: analysis, lessons and quizzes"
