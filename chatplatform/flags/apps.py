from django.apps import AppConfig


class FlagsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chatplatform.flags"
    label = "flags"
    verbose_name = "Feature flags"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from chatplatform.flags.models import Flag, FlagOverride
        from chatplatform.flags.selectors import flags_changed

        # Every write path (admin, shell, services) tells the other processes.
        for model in (Flag, FlagOverride):
            post_save.connect(
                flags_changed, sender=model, dispatch_uid=f"flags_changed_save_{model.__name__}"
            )
            post_delete.connect(
                flags_changed, sender=model, dispatch_uid=f"flags_changed_delete_{model.__name__}"
            )
