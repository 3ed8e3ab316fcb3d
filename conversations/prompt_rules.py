"""What a prompt template may say: its purposes and the placeholders each purpose allows.

A template is `str.format` text. The model validates with these rules, and the prompts module
renders with them; they import neither, so the arrows run one way.
"""

import string

from django.core.exceptions import ValidationError
from django.db import models


class Purpose(models.TextChoices):
    ANSWER = "answer", "Answer (system prompt of a flow)"
    ROUTER = "router", "Flow router"
    IMAGE_DESCRIPTION = "image_description", "Image description"
    TOPIC_ANALYSIS = "topic_analysis", "Topic and score analysis"
    ORDER_EXTRACTION = "order_extraction", "Order variable extraction"
    ORDER_ANSWER = "order_answer", "Order answer"


ALLOWED_PLACEHOLDERS: dict[str, frozenset[str]] = {
    Purpose.ANSWER: frozenset({"chatbot_name", "system_prompt", "language", "context", "flow_title"}),
    Purpose.ROUTER: frozenset({"chatbot_name", "language", "flows"}),
    Purpose.IMAGE_DESCRIPTION: frozenset({"chatbot_name", "language"}),
    Purpose.TOPIC_ANALYSIS: frozenset({"chatbot_name", "language", "topics"}),
    Purpose.ORDER_EXTRACTION: frozenset({"chatbot_name", "language"}),
    Purpose.ORDER_ANSWER: frozenset({"chatbot_name", "language", "order_facts"}),
}
REQUIRED_PLACEHOLDERS: dict[str, frozenset[str]] = {
    Purpose.ANSWER: frozenset({"context"}),
    Purpose.ROUTER: frozenset({"flows"}),
    Purpose.ORDER_ANSWER: frozenset({"order_facts"}),
}


def template_placeholders(text: str) -> set[str]:
    """The placeholder names of a template; raises ValueError on malformed braces."""
    names = set()
    for _, field, spec, conversion in string.Formatter().parse(text):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(f"'{{{field}}}' is not a plain placeholder name")
        names.add(field)
    return names


def prompt_template_validate(*, purpose: str, text: str) -> None:
    """Raise ValidationError unless the template uses only its purpose's placeholders."""
    try:
        names = template_placeholders(text)
    except ValueError as exc:
        raise ValidationError(
            f"{exc}. Write literal braces as {{{{ and }}}}.", code="invalid_template"
        ) from None
    allowed = ALLOWED_PLACEHOLDERS[purpose]
    unknown = sorted(names - allowed)
    if unknown:
        raise ValidationError(
            f"Unknown placeholder(s): {', '.join('{' + n + '}' for n in unknown)}. "
            f"Allowed: {', '.join('{' + n + '}' for n in sorted(allowed))}.",
            code="unknown_placeholder",
        )
    missing = sorted(REQUIRED_PLACEHOLDERS.get(purpose, frozenset()) - names)
    if missing:
        raise ValidationError(
            f"The template must contain {', '.join('{' + n + '}' for n in missing)}.",
            code="missing_placeholder",
        )
