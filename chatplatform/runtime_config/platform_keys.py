"""The runtime config keys of the platform itself."""

from rest_framework import serializers

from chatplatform.runtime_config.keys import register_key


class ModelPriceSerializer(serializers.Serializer):
    input_per_million = serializers.FloatField(min_value=0, help_text="USD per million input tokens.")
    output_per_million = serializers.FloatField(min_value=0, help_text="USD per million output tokens.")


class ModelPricesField(serializers.DictField):
    """Model name to its prices; the names are what providers report (`gpt-4o-mini`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(child=ModelPriceSerializer(), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            blank = [name for name in data if not str(name).strip() or len(str(name)) > 100]
            if blank:
                raise serializers.ValidationError("Model names must be 1-100 characters.")
        return super().to_internal_value(data)


register_key(
    "llm_prices",
    ModelPricesField(),
    default={
        "gpt-4o-mini": {"input_per_million": 0.15, "output_per_million": 0.60},
        "gpt-4o": {"input_per_million": 2.50, "output_per_million": 10.00},
        "text-embedding-3-small": {"input_per_million": 0.02, "output_per_million": 0.0},
        "local": {"input_per_million": 0.0, "output_per_million": 0.0},
    },
    description="USD per million input and output tokens, per model, for cost figures.",
)


class RetrievalDefaultsSerializer(serializers.Serializer):
    top_k = serializers.IntegerField(min_value=1, max_value=20, help_text="Chunks per answer.")
    min_score = serializers.FloatField(
        min_value=-1.0, max_value=1.0, help_text="Chunks scoring below this similarity are not used."
    )


register_key(
    "retrieval_defaults",
    RetrievalDefaultsSerializer,
    default={"top_k": 4, "min_score": 0.1},
    description="Retrieval settings given to new chatbots (top_k chunks above min_score).",
)
