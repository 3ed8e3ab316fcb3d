"""The analytics runtime config key: how long a conversation must be quiet before it counts as
resolved (assumed) and before it is classified and scored."""

from django.conf import settings
from rest_framework import serializers

from chatplatform import runtime_config
from chatplatform.runtime_config.keys import register_key

QUIET_MINUTES_KEY = "analytics_quiet_minutes"
WEEK_MINUTES = 7 * 24 * 60


class QuietMinutesSerializer(serializers.Serializer):
    resolution_assumed = serializers.IntegerField(
        min_value=1,
        max_value=WEEK_MINUTES,
        help_text="Minutes without a new question after an answer before it counts as resolved.",
    )
    analysis = serializers.IntegerField(
        min_value=1, max_value=WEEK_MINUTES, help_text="Minutes of quiet before topic and score."
    )


def config_keys_register() -> None:
    """Called once from AnalyticsConfig.ready(); the defaults come from the settings."""
    register_key(
        QUIET_MINUTES_KEY,
        QuietMinutesSerializer,
        default={
            "resolution_assumed": settings.ANALYTICS_RESOLUTION_ASSUME_MINUTES,
            "analysis": settings.ANALYTICS_ANALYSIS_QUIET_MINUTES,
        },
        description="Minutes a conversation must be quiet before it counts as resolved (assumed) "
        "and before its topic and score are judged.",
    )


def quiet_minutes() -> dict[str, int]:
    return runtime_config.get(QUIET_MINUTES_KEY)
