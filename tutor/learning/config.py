"""The runtime config keys of learning analytics (versioned; staff edit them in admin)."""

from rest_framework import serializers

from chatplatform.runtime_config.keys import register_key
from tutor.learning.engagement import SIGNALS


class EngagementWeightsField(serializers.DictField):
    """A weight per signal; every signal present, none negative, at least one above 0."""

    def __init__(self, **kwargs) -> None:
        super().__init__(child=serializers.FloatField(min_value=0, max_value=100), **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        missing = [name for name in SIGNALS if name not in value]
        unknown = [name for name in value if name not in SIGNALS]
        if missing or unknown:
            raise serializers.ValidationError(
                f"Give exactly these signals: {', '.join(SIGNALS)}"
                + (f" (missing: {', '.join(missing)})" if missing else "")
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        if not any(weight > 0 for weight in value.values()):
            raise serializers.ValidationError("At least one weight must be above 0.")
        return value


class EngagementTargetsSerializer(serializers.Serializer):
    attempts = serializers.IntegerField(min_value=1, help_text="Quiz attempts that fill the signal.")
    summaries = serializers.IntegerField(min_value=1, help_text="Summaries that fill the signal.")
    time_on_task_minutes = serializers.FloatField(min_value=1, help_text="Minutes that fill the signal.")
    recency_half_life_days = serializers.FloatField(
        min_value=0.1, help_text="Days after which the recency signal has halved."
    )


class EngagementConfigSerializer(serializers.Serializer):
    weights = EngagementWeightsField()
    targets = EngagementTargetsSerializer()


ENGAGEMENT_KEY = "tutor_engagement_weights"
register_key(
    ENGAGEMENT_KEY,
    EngagementConfigSerializer,
    default={
        "weights": {
            "quiz_accuracy": 30,
            "attempts": 15,
            "summaries": 10,
            "concept_coverage": 15,
            "time_on_task": 15,
            "recency": 15,
        },
        "targets": {"attempts": 3, "summaries": 2, "time_on_task_minutes": 30, "recency_half_life_days": 7},
    },
    description="Engagement score of a study session: the weight of each signal (relative; "
    "normalised to sum to 1) and the amount that fills each signal.",
)


class ItemThresholdsSerializer(serializers.Serializer):
    min_attempts = serializers.IntegerField(min_value=2, help_text="Answers needed before judging.")
    p_correct_min = serializers.FloatField(min_value=0, max_value=1, help_text="Flag below this share.")
    p_correct_max = serializers.FloatField(min_value=0, max_value=1, help_text="Flag above this share.")
    discrimination_min = serializers.FloatField(
        min_value=-1, max_value=1, help_text="Flag a point-biserial below this."
    )

    def validate(self, attrs):
        if attrs["p_correct_min"] >= attrs["p_correct_max"]:
            raise serializers.ValidationError("p_correct_min must be below p_correct_max.")
        return attrs


ITEM_THRESHOLDS_KEY = "tutor_item_thresholds"
register_key(
    ITEM_THRESHOLDS_KEY,
    ItemThresholdsSerializer,
    default={"min_attempts": 10, "p_correct_min": 0.2, "p_correct_max": 0.95, "discrimination_min": 0.1},
    description="When a quiz question is flagged from its attempts (and left out of new quizzes).",
)
