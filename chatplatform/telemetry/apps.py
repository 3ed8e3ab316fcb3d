from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chatplatform.telemetry"
    label = "telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        from chatplatform.telemetry import otlp, spans
        from chatplatform.telemetry.recorder import recorder

        spans.sink_set(recorder.add)
        otlp.exporter_setup()
